package signaling

import (
	"testing"
	"time"
)

// Found in review: a stateless request answered after two of Serve's
// expiry ticks without other traffic (a REGISTER whose store write took
// 4-8 s on a quiet PBX) found both generations dropped, and done wrote to
// a nil map: a panic in the handler's goroutine, which ends the process.
func TestAnsweredAfterTwoExpiries(t *testing.T) {
	var a answered
	t0 := time.Now()
	a.begin("k", t0)
	a.expire(t0.Add(answeredFor))
	a.expire(t0.Add(2 * answeredFor))
	a.done("k", []byte("SIP/2.0 200 OK\r\n\r\n"))
	if res, seen := a.begin("k", t0.Add(2*answeredFor)); !seen || string(res) != "SIP/2.0 200 OK\r\n\r\n" {
		t.Fatalf("the answer is not remembered: %q %v", res, seen)
	}
}
