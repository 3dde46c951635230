package gather

import (
	"slices"
	"testing"
)

// Requests queued before Serve looks are served together, at most max at a
// time, in arrival order; a lone request is served alone; quit ends Serve.
func TestServe(t *testing.T) {
	reqs := make(chan int, 16)
	for i := range 10 {
		reqs <- i
	}
	quit := make(chan struct{})
	var got [][]int
	done := make(chan struct{})
	go func() {
		defer close(done)
		Serve(quit, reqs, 4, func(b []int) {
			got = append(got, slices.Clone(b))
			if len(got) == 3 {
				reqs <- 10 // arrives after the queue was drained: alone
			}
			if len(got) == 4 {
				close(quit)
			}
		})
	}()
	<-done
	want := [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}, {10}}
	if !slices.EqualFunc(got, want, slices.Equal[[]int]) {
		t.Fatalf("batches %v, want %v", got, want)
	}
}
