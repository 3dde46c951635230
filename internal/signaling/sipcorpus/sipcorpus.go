// Package sipcorpus replays a corpus of malformed and torture SIP messages
// (RFC 4475 and the cases of issue 11, in testdata/corpus of the
// signaling package) against a running server over UDP and TCP, and checks
// each answer. The signaling tests and the whole-PBX tests both use it.
package sipcorpus

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Case is one corpus message and what the server must answer.
type Case struct {
	Name string
	Data []byte // as sent: CRLF line ends unless the case is raw
	UDP  Expect
	TCP  Expect
}

// Expect is a status code, or one of None (no answer: dropped or the
// connection closed) and Valid (routed: any answer but 400, 505, 513).
type Expect int

// Special expectations.
const (
	None  Expect = -1
	Valid Expect = -2
	Any   Expect = -3 // either refused or routed; only never a crash
)

func parseExpect(s string) (Expect, error) {
	switch s {
	case "none":
		return None, nil
	case "valid":
		return Valid, nil
	case "any":
		return Any, nil
	}
	n, err := strconv.Atoi(s)
	return Expect(n), err
}

// Load reads dir/EXPECT ("name udp tcp [raw]" per line) and the message
// files it names. Files are kept with LF line ends for editing and sent
// with CRLF, unless marked raw; "$LEN" is replaced by the body length.
func Load(dir string) ([]Case, error) {
	f, err := os.ReadFile(filepath.Join(dir, "EXPECT"))
	if err != nil {
		return nil, err
	}
	var cases []Case
	for i, line := range strings.Split(string(f), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 3 {
			return nil, fmt.Errorf("EXPECT:%d: want name udp tcp [raw]", i+1)
		}
		c := Case{Name: fs[0]}
		if c.UDP, err = parseExpect(fs[1]); err != nil {
			return nil, fmt.Errorf("EXPECT:%d: %w", i+1, err)
		}
		if c.TCP, err = parseExpect(fs[2]); err != nil {
			return nil, fmt.Errorf("EXPECT:%d: %w", i+1, err)
		}
		data, err := os.ReadFile(filepath.Join(dir, c.Name))
		if err != nil {
			return nil, err
		}
		if len(fs) < 4 || fs[3] != "raw" {
			data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
		}
		if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
			data = bytes.Replace(data, []byte("$LEN"), []byte(strconv.Itoa(len(data)-i-4)), 1)
		}
		c.Data = data
		cases = append(cases, c)
	}
	return cases, nil
}

// Run sends every case over UDP and over TCP (a fresh socket each, cases in
// parallel) to addr and checks the answers. wait bounds how long a None
// case is watched. Call it inside a t.Run so that the parallel subtests are
// done when that returns.
func Run(t *testing.T, addr string, cases []Case, wait time.Duration) {
	t.Helper()
	for _, c := range cases {
		t.Run("udp/"+c.Name, func(t *testing.T) {
			t.Parallel()
			got := sendUDP(t, addr, branch(c.Data, "udp"), timeout(c.UDP, wait))
			check(t, c.UDP, got)
		})
		t.Run("tcp/"+c.Name, func(t *testing.T) {
			t.Parallel()
			got := sendTCP(t, addr, branch(c.Data, "tcp"), timeout(c.TCP, wait))
			check(t, c.TCP, got)
		})
	}
}

// branch makes the corpus's Via branches differ per transport: sipgo's
// transaction key has no transport, so the same message sent at once over
// UDP and TCP would be taken for a retransmission.
func branch(data []byte, transport string) []byte {
	return bytes.ReplaceAll(data, []byte("branch=z9hG4bK-"), []byte("branch=z9hG4bK-"+transport+"-"))
}

func timeout(e Expect, wait time.Duration) time.Duration {
	if e == None || e == Any {
		return wait
	}
	return 3 * time.Second
}

func check(t *testing.T, want Expect, got int) {
	t.Helper()
	switch want {
	case Any:
	case None:
		if got != 0 {
			t.Errorf("answered %d, want no answer", got)
		}
	case Valid:
		if got == 0 || got == 400 || got == 505 || got == 513 {
			t.Errorf("answered %d, want a routed answer", got)
		}
	default:
		if got != int(want) {
			t.Errorf("answered %d, want %d", got, want)
		}
	}
}

// sendUDP sends data and returns the status of the first answer, 0 for none.
func sendUDP(t *testing.T, addr string, data []byte, wait time.Duration) int {
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return 0
		}
		if code := status(buf[:n]); code != 100 {
			return code
		}
	}
}

// sendTCP sends data on a new connection and returns the first final
// status, 0 when none came or the connection closed.
func sendTCP(t *testing.T, addr string, data []byte, wait time.Duration) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(data); err != nil {
		return 0
	}
	c.SetReadDeadline(time.Now().Add(wait))
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0
		}
		if !strings.HasPrefix(line, "SIP/2.0 ") {
			continue
		}
		if code := status([]byte(line)); code != 100 {
			return code
		}
	}
}

func status(msg []byte) int {
	line, _, _ := bytes.Cut(msg, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 || f[0] != "SIP/2.0" {
		return -1
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return n
}
