package follow

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestEachStopsAtClose(t *testing.T) {
	ch := make(chan int, 3)
	ch <- 1
	ch <- 2
	close(ch)
	var got []int
	Each(context.Background(), ch, func(v int) { got = append(got, v) })
	if !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("got %v", got)
	}
}

func TestEachStopsAtContext(t *testing.T) {
	ch := make(chan int)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var got []int
	go func() {
		defer close(done)
		Each(ctx, ch, func(v int) { got = append(got, v) })
	}()
	ch <- 7 // unbuffered: received by Each
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Each did not return when the context ended")
	}
	if !slices.Equal(got, []int{7}) {
		t.Fatalf("got %v", got)
	}
}

func TestQueued(t *testing.T) {
	for _, tc := range []struct {
		name   string
		queued int
		closed bool
		max    int
		want   int
	}{
		{"all", 5, false, -1, 5},
		{"bounded", 5, false, 3, 3},
		{"empty does not wait", 0, false, -1, 0},
		{"closed", 2, true, -1, 2},
		{"none", 5, false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := make(chan int, 8)
			for i := range tc.queued {
				ch <- i
			}
			if tc.closed {
				close(ch)
			}
			var got []int
			Queued(ch, tc.max, func(v int) { got = append(got, v) })
			if len(got) != tc.want || !slices.Equal(got, []int{0, 1, 2, 3, 4}[:tc.want]) {
				t.Fatalf("got %v, want the first %d", got, tc.want)
			}
			if left := len(ch); left != tc.queued-tc.want {
				t.Fatalf("%d left in the channel, want %d", left, tc.queued-tc.want)
			}
		})
	}
}

func TestDiscard(t *testing.T) {
	ch := make(chan int, 4)
	ch <- 1
	ch <- 2
	Discard(ch) // an empty channel after: Discard must not wait
	Discard(ch)
	if len(ch) != 0 {
		t.Fatalf("%d left", len(ch))
	}
}
