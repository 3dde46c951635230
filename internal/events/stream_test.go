package events

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// streamServer serves s with a frame that skips "skip" events and names
// the others "x-<kind>"; served is closed when a Serve call returns.
func streamServer(t *testing.T, s Stream) (url string, served chan struct{}) {
	t.Helper()
	served = make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Serve(w, r, func(e Event) (string, any, bool) {
			return "x-" + e.Kind, map[string]string{"device": e.Device}, e.Kind != "skip"
		})
		served <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, served
}

func openStream(t *testing.T, ctx context.Context, url string) *bufio.Scanner {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, headers %v", res.StatusCode, res.Header)
	}
	return bufio.NewScanner(res.Body)
}

// readUntil returns the lines read up to and including the first one
// holding want, or fails when the stream ends first.
func readUntil(t *testing.T, sc *bufio.Scanner, want string) []string {
	t.Helper()
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), want) {
			return lines
		}
	}
	t.Fatalf("stream ended before %q; read %q", want, lines)
	return nil
}

func waitServed(t *testing.T, served chan struct{}, why string) {
	t.Helper()
	select {
	case <-served:
	case <-time.After(3 * time.Second):
		t.Fatalf("Serve still running after %s", why)
	}
}

func TestStreamFramesSkipsAndEndsOnDone(t *testing.T) {
	bus, done := New(), make(chan struct{})
	url, served := streamServer(t, Stream{Bus: bus, Heartbeat: 20 * time.Millisecond, Max: time.Minute, Done: done})
	sc := openStream(t, context.Background(), url)
	readUntil(t, sc, "retry: 2000")
	// Subscribed before the headers went out: nothing is missed.
	bus.Publish(Event{Kind: "skip", Device: "HD1"})
	bus.Publish(Event{Kind: "login", Device: "HD2"})
	lines := readUntil(t, sc, "data: ")
	got := strings.Join(lines, "\n")
	if strings.Contains(got, "HD1") || !strings.Contains(got, "id: 2\nevent: x-login\ndata: {\"device\":\"HD2\"}") {
		t.Fatalf("frames %q", lines)
	}
	readUntil(t, sc, ": ping")
	close(done)
	waitServed(t, served, "Done was closed")
}

func TestStreamEndsAfterMaxAndWhenTheClientGoes(t *testing.T) {
	url, served := streamServer(t, Stream{Bus: New(), Max: 100 * time.Millisecond})
	sc := openStream(t, context.Background(), url)
	start := time.Now()
	for sc.Scan() {
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("stream lasted %v, Max is 100ms", el)
	}
	waitServed(t, served, "Max")

	url, served = streamServer(t, Stream{Bus: New()})
	ctx, cancel := context.WithCancel(context.Background())
	sc = openStream(t, ctx, url)
	readUntil(t, sc, ": hello")
	cancel()
	waitServed(t, served, "the client went")
}
