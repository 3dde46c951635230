package storetest

import (
	"context"
	"slices"
	"testing"
)

// finding is a row of a Find* method's table test: the filter, the keys
// of what it finds, in order, and the total before Limit and Offset.
type finding[F any] struct {
	f     F
	want  []string
	total int
}

// checkFinds calls find (a store's Find* method) with each row's filter
// and compares the keys of what it found, in order, and the total.
func checkFinds[F, T any](t *testing.T, name string, find func(context.Context, F) ([]T, int, error), key func(T) string, rows []finding[F]) {
	t.Helper()
	for _, r := range rows {
		found, n, err := find(context.Background(), r.f)
		must(t, err)
		got := []string{}
		for _, v := range found {
			got = append(got, key(v))
		}
		if !slices.Equal(got, r.want) || n != r.total {
			t.Errorf("%s(%+v) = %v, %d; want %v, %d", name, r.f, got, n, r.want, r.total)
		}
	}
}
