// Command gen measures the media relay (internal/relay) under N
// simultaneous anchored G.711 calls on loopback (bench/media/run.sh runs
// it at 100, 500 and 1,000 calls):
//
//	gen -calls 1000 -warm 2s -dur 10s [-cpuprofile relay.pprof]
//
// It starts itself again as the relay process (-relay), which opens one
// relay session per call with two port pairs from -ports and answers each
// call's SDP; then, in this process, every call's two phones send a 20 ms
// PCMU packet (172 bytes) each way through the relay. It prints the relay
// process's CPU (from /proc, so the generator's own CPU is not counted),
// the packet loss, and the p99 added jitter: per stream, a packet's
// transit time (send to receive, stamped in its payload) less the
// stream's smallest transit, over every packet of the measured window.
// Loopback only.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/relay"
)

func main() {
	calls := flag.Int("calls", 100, "simultaneous anchored calls")
	warm := flag.Duration("warm", 2*time.Second, "traffic before the measured window")
	dur := flag.Duration("dur", 10*time.Second, "measured window")
	ports := flag.String("ports", "20000-29999", "relay RTP port range")
	asRelay := flag.Bool("relay", false, "run as the relay process (internal)")
	cpuprofile := flag.String("cpuprofile", "", "write the relay process's CPU profile here")
	flag.Parse()
	if *asRelay {
		if err := runRelay(*ports, *cpuprofile); err != nil {
			fmt.Fprintln(os.Stderr, "relay:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*calls, *warm, *dur, *ports, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// sdp is a phone's description at 127.0.0.1:port.
func sdp(port int) string {
	return fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n", port)
}

// runRelay reads "portA portB" lines, opens a session for each and
// answers "relayA relayB" (where each phone sends); "quit" ends it.
func runRelay(ports, cpuprofile string) error {
	low, high, err := media.ParseRange(ports)
	if err != nil {
		return err
	}
	r, err := relay.New(relay.Options{Pool: media.NewPortPool(low, high), BindIP: "127.0.0.1"})
	if err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	var sessions []*relay.Session
	defer func() {
		for _, s := range sessions {
			s.Close()
		}
	}()
	for in.Scan() {
		f := strings.Fields(in.Text())
		switch {
		case len(f) == 1 && f[0] == "start" && cpuprofile != "":
			pf, err := os.Create(cpuprofile)
			if err != nil {
				return err
			}
			defer pf.Close()
			if err := pprof.StartCPUProfile(pf); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		case len(f) == 1 && f[0] == "quit":
			return nil
		case len(f) == 2:
			a, _ := strconv.Atoi(f[0])
			b, _ := strconv.Atoi(f[1])
			s, err := r.Open()
			if err != nil {
				return err
			}
			sessions = append(sessions, s)
			if _, err := s.Pass(relay.A, []byte(sdp(a)), "127.0.0.1"); err != nil {
				return err
			}
			if _, err := s.Pass(relay.B, []byte(sdp(b)), "127.0.0.1"); err != nil {
				return err
			}
			fmt.Fprintf(out, "%d %d\n", s.Leg(relay.A).Port(), s.Leg(relay.B).Port())
			out.Flush()
		}
	}
	return in.Err()
}

// Histogram of added jitter: 50 µs buckets up to 100 ms.
const (
	bucket  = 50 * time.Microsecond
	buckets = 2000
)

// stream is one direction of one call: the socket that receives it and
// what it saw.
type stream struct {
	conn     *net.UDPConn // the receiving phone
	to       *net.UDPAddr // where the sending phone sends (relay port)
	from     *net.UDPConn // the sending phone
	sent     atomic.Int64 // packets sent in the window
	got      atomic.Int64 // packets received that were sent in the window
	minTrans atomic.Int64 // smallest transit, ns
	hist     [buckets]uint32
	seq      uint16
}

func run(calls int, warm, dur time.Duration, ports, cpuprofile string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-relay", "-ports", ports}
	if cpuprofile != "" {
		args = append(args, "-cpuprofile", cpuprofile)
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { fmt.Fprintln(stdin, "quit"); stdin.Close(); _ = cmd.Wait() }()
	answers := bufio.NewScanner(stdout)

	var streams []*stream
	for range calls {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		defer a.Close()
		defer b.Close()
		fmt.Fprintf(stdin, "%d %d\n", a.LocalAddr().(*net.UDPAddr).Port, b.LocalAddr().(*net.UDPAddr).Port)
		if !answers.Scan() {
			return fmt.Errorf("relay process gave no ports: %v", answers.Err())
		}
		var ra, rb int
		if _, err := fmt.Sscanf(answers.Text(), "%d %d", &ra, &rb); err != nil {
			return fmt.Errorf("relay answer %q: %w", answers.Text(), err)
		}
		ab := &stream{conn: b, from: a, to: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ra}}
		ba := &stream{conn: a, from: b, to: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rb}}
		streams = append(streams, ab, ba)
	}
	for _, s := range streams {
		s.minTrans.Store(1 << 62)
	}

	epoch := time.Now()
	var winStart, winEnd atomic.Int64 // ns since epoch; 0 = not yet
	winStart.Store(1 << 62)
	winEnd.Store(1 << 62)
	// Receivers: one per socket. A socket receives one stream; a's socket
	// receives ba, b's receives ab.
	var rwg sync.WaitGroup
	for _, s := range streams {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			buf := make([]byte, 1500)
			for {
				n, err := s.conn.Read(buf)
				if err != nil {
					return
				}
				if n < 20 {
					continue
				}
				sentAt := int64(binary.BigEndian.Uint64(buf[12:20]))
				transit := int64(time.Since(epoch)) - sentAt
				if sentAt < winStart.Load() || sentAt > winEnd.Load() {
					continue
				}
				s.got.Add(1)
				if transit < s.minTrans.Load() {
					s.minTrans.Store(transit)
				}
				b := min(transit/int64(bucket), buckets-1)
				s.hist[b]++
			}
		}()
	}
	// Senders: four goroutines, each sends for a quarter of the streams
	// every 20 ms, staggered by 5 ms.
	stop := make(chan struct{})
	var swg sync.WaitGroup
	const senders = 4
	for g := range senders {
		swg.Add(1)
		go func() {
			defer swg.Done()
			time.Sleep(time.Duration(g) * 5 * time.Millisecond)
			pkt := make([]byte, 12+160)
			pkt[0], pkt[1] = 0x80, 0
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				for i := g; i < len(streams); i += senders {
					s := streams[i]
					s.seq++
					binary.BigEndian.PutUint16(pkt[2:], s.seq)
					now := int64(time.Since(epoch))
					binary.BigEndian.PutUint64(pkt[12:], uint64(now))
					if _, err := s.from.WriteToUDP(pkt, s.to); err == nil && now >= winStart.Load() && now <= winEnd.Load() {
						s.sent.Add(1)
					}
				}
			}
		}()
	}
	time.Sleep(warm)
	fmt.Fprintln(stdin, "start")
	cpu0 := procCPU(cmd.Process.Pid)
	t0 := time.Now()
	winStart.Store(int64(time.Since(epoch)))
	winEnd.Store(int64(time.Since(epoch) + dur))
	time.Sleep(dur)
	cpu1 := procCPU(cmd.Process.Pid)
	wall := time.Since(t0)
	time.Sleep(500 * time.Millisecond) // the window's last packets arrive
	close(stop)
	swg.Wait()

	var sent, got int64
	var all [buckets]uint64
	for _, s := range streams {
		sent += s.sent.Load()
		got += s.got.Load()
	}
	// Added jitter: each stream's histogram shifted by its smallest
	// transit (read after the senders stopped; receivers may still run,
	// so this is a snapshot).
	for _, s := range streams {
		m := s.minTrans.Load() / int64(bucket)
		for i, c := range s.hist {
			if c > 0 {
				all[max(0, int64(i)-m)] += uint64(c)
			}
		}
	}
	cpu := cpu1 - cpu0
	loss := 0.0
	if sent > 0 {
		loss = 100 * float64(sent-got) / float64(sent)
	}
	fmt.Printf("calls=%d packets/s=%d relay_cpu=%.1f%%_of_a_core cpu_per_call=%.1fus/s loss=%.3f%% (%d of %d) added_jitter_p50=%s p99=%s p999=%s\n",
		calls, int64(float64(sent)/wall.Seconds()), 100*cpu.Seconds()/wall.Seconds(),
		float64(cpu.Microseconds())/wall.Seconds()/float64(calls), loss, sent-got, sent,
		quantile(all[:], 0.50), quantile(all[:], 0.99), quantile(all[:], 0.999))
	for _, s := range streams {
		s.conn.Close()
		s.from.Close()
	}
	rwg.Wait()
	return nil
}

// quantile reads q from the added-jitter histogram.
func quantile(h []uint64, q float64) time.Duration {
	var total uint64
	for _, c := range h {
		total += c
	}
	if total == 0 {
		return 0
	}
	want := uint64(q * float64(total))
	var acc uint64
	for i, c := range h {
		acc += c
		if acc > want {
			return time.Duration(i+1) * bucket
		}
	}
	return time.Duration(len(h)) * bucket
}

// procCPU is the user+system CPU time of process pid (from /proc).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / hz
}
