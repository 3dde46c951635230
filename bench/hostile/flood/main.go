// Command flood sends one hostile load at a Hotdesk PBX for a bounded time
// (bench/hostile/run.sh runs each in turn while a sipp phone works):
//
//	flood udp-garbage  -sip ADDR -src IP -dur 10s -rate 5000
//	flood tcp-idle     -sip ADDR -n 5000 -srcs 50 -dur 10s
//	flood slow-http    -http ADDR -n 2000 -dur 10s
//	flood invite-noack -sip ADDR -src IP -dur 10s -rate 200
//
// Loopback only: every address must be in 127.0.0.0/8. It prints one line
// of what it did.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: flood udp-garbage|tcp-idle|slow-http|invite-noack [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	sipAddr := fs.String("sip", "127.0.0.1:5060", "PBX SIP address")
	httpAddr := fs.String("http", "127.0.0.1:8080", "PBX HTTP address")
	src := fs.String("src", "127.0.0.2", "source IP (loopback)")
	dur := fs.Duration("dur", 10*time.Second, "how long")
	rate := fs.Int("rate", 5000, "messages per second")
	n := fs.Int("n", 5000, "connections")
	srcs := fs.Int("srcs", 50, "source addresses 127.0.1.1… to spread connections over")
	corpus := fs.String("corpus", "internal/signaling/testdata/corpus", "malformed messages mixed into the garbage")
	fs.Parse(os.Args[2:])
	for _, a := range []string{*sipAddr, *httpAddr, *src + ":0"} {
		mustLoopback(a)
	}
	raiseFileLimit()
	switch os.Args[1] {
	case "udp-garbage":
		udpGarbage(*sipAddr, *src, *dur, *rate, *corpus)
	case "tcp-idle":
		tcpIdle(*sipAddr, *n, *srcs, *dur)
	case "slow-http":
		slowHTTP(*httpAddr, *n, *dur)
	case "invite-noack":
		inviteNoAck(*sipAddr, *src, *dur, *rate)
	default:
		fmt.Fprintln(os.Stderr, "unknown flood", os.Args[1])
		os.Exit(2)
	}
}

func mustLoopback(addr string) {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		h = addr
	}
	if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "flood: %s is not a loopback address\n", addr)
		os.Exit(2)
	}
}

func raiseFileLimit() {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) == nil && r.Cur < r.Max {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}

// pace calls f rate times a second until d has passed; it returns the count.
func pace(d time.Duration, rate int, f func(i int)) int {
	start := time.Now()
	i := 0
	for time.Since(start) < d {
		due := int(time.Since(start).Seconds() * float64(rate))
		for ; i < due; i++ {
			f(i)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return i
}

// udpGarbage sends random bytes, SIP-looking junk and the malformed corpus
// from many source ports of one address.
func udpGarbage(addr, src string, d time.Duration, rate int, corpus string) {
	var samples [][]byte
	files, _ := filepath.Glob(filepath.Join(corpus, "*.sip"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			samples = append(samples, []byte(strings.ReplaceAll(string(b), "\n", "\r\n")))
		}
	}
	var conns []net.Conn
	for i := 0; i < 16; i++ {
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, mustUDP(addr))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	// Drain answers so the socket buffers do not matter.
	var answers atomic.Int64
	for _, c := range conns {
		go func() {
			buf := make([]byte, 65535)
			for {
				if _, err := c.Read(buf); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						continue
					}
					if strings.Contains(err.Error(), "refused") {
						continue
					}
					return
				}
				answers.Add(1)
			}
		}()
	}
	var bytesSent int64
	sent := pace(d, rate, func(i int) {
		var b []byte
		switch i % 3 {
		case 0:
			b = make([]byte, 50+rand.IntN(1400))
			for j := range b {
				b[j] = byte(rand.IntN(256))
			}
		case 1:
			b = []byte(fmt.Sprintf("INVITE sip:%d@pbx SIP/2.0\r\nVia: SIP/2.0/UDP %s:5999;branch=z9hG4bK%d\r\nCSeq: 1 INVITE\r\nX: %s\r\n\r\n",
				i, src, i, strings.Repeat("A", rand.IntN(500))))
		default:
			b = samples[i%len(samples)]
		}
		bytesSent += int64(len(b))
		conns[i%len(conns)].Write(b)
	})
	fmt.Printf("udp-garbage: %d datagrams (%d bytes) in %v from %s, %d answers\n", sent, bytesSent, d, src, answers.Load())
}

func mustUDP(addr string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return a
}

// tcpIdle opens n connections spread over srcs loopback addresses, sends
// nothing and holds them; it counts those the PBX refused or closed.
func tcpIdle(addr string, n, srcs int, d time.Duration) {
	open, failed, closed := holdConns(addr, n, 1, srcs, d, func(_ int, c net.Conn, deadline time.Time) bool {
		c.SetReadDeadline(deadline)
		_, err := c.Read(make([]byte, 64))
		return closedByPeer(err)
	})
	fmt.Printf("tcp-idle: %d connections opened from %d addresses (%d dials failed), %d closed by the PBX within %v\n",
		open, srcs, failed, closed, d)
}

// slowHTTP holds n connections sending a request one byte a second: half
// trickle their headers, half a POST /signin body.
func slowHTTP(addr string, n int, d time.Duration) {
	open, failed, closed := holdConns(addr, n, 2, 50, d, func(i int, c net.Conn, deadline time.Time) bool {
		var msg string
		if i%2 == 0 {
			msg = "GET /healthz HTTP/1.1\r\nHost: pbx\r\nX-Slow: " + strings.Repeat("s", 1000) + "\r\n\r\n"
		} else {
			fmt.Fprintf(c, "POST /signin HTTP/1.1\r\nHost: pbx\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
			msg = "user=admin&password=" + strings.Repeat("x", 1000)
		}
		for j := 0; j < len(msg) && time.Now().Before(deadline); j++ {
			if _, err := c.Write([]byte{msg[j]}); err != nil {
				return true
			}
			time.Sleep(time.Second)
		}
		c.SetReadDeadline(deadline)
		_, err := bufio.NewReader(c).ReadByte()
		return closedByPeer(err)
	})
	fmt.Printf("slow-http: %d connections opened (%d dials failed), %d closed by the PBX within %v\n", open, failed, closed, d)
}

// holdConns dials n TCP connections to addr within d, connection i from
// 127.0.net3.(1+i%srcs), at most 200 dialling at once, and runs hold on
// each (it says whether the PBX closed the connection) until d is over.
// It returns how many were opened, failed to dial and were closed.
func holdConns(addr string, n int, net3 byte, srcs int, d time.Duration, hold func(i int, c net.Conn, deadline time.Time) bool) (open, failed, closed int64) {
	deadline := time.Now().Add(d)
	var nOpen, nFailed, nClosed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 200)
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		sem <- struct{}{}
		wg.Go(func() {
			ip := net.IPv4(127, 0, net3, byte(1+i%srcs))
			dl := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 2 * time.Second}
			c, err := dl.Dial("tcp", addr)
			<-sem
			if err != nil {
				nFailed.Add(1)
				return
			}
			defer c.Close()
			nOpen.Add(1)
			if hold(i, c, deadline) {
				nClosed.Add(1)
			}
		})
	}
	wg.Wait()
	return nOpen.Load(), nFailed.Load(), nClosed.Load()
}

// closedByPeer says whether a read ended by the PBX (an error that is not
// the read deadline passing).
func closedByPeer(err error) bool {
	if err == nil {
		return false
	}
	ne, ok := err.(net.Error)
	return !ok || !ne.Timeout()
}

// inviteNoAck sends INVITEs from a device the PBX challenges, never ACKs
// the 407, and never answers anything: each costs the PBX a transaction
// retransmitting its 407 until Timer H.
func inviteNoAck(addr, src string, d time.Duration, rate int) {
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, mustUDP(addr))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	var answers atomic.Int64
	go func() {
		buf := make([]byte, 65535)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			answers.Add(1)
		}
	}()
	sent := pace(d, rate, func(i int) {
		fmt.Fprintf(c, "INVITE sip:201@pbx SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-noack-%d-%d;rport\r\n"+
			"From: <sip:HD00003@pbx>;tag=n%d\r\nTo: <sip:201@pbx>\r\nCall-ID: noack-%d-%d@flood\r\nCSeq: 1 INVITE\r\n"+
			"Contact: <sip:HD00003@%s>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 0\r\n\r\n",
			local, os.Getpid(), i, i, os.Getpid(), i, local)
	})
	fmt.Printf("invite-noack: %d INVITEs in %v from %s, %d answers (407s and their retransmissions)\n", sent, d, src, answers.Load())
}
