// Command tcpload registers SIP devices over many TCP connections at a
// fixed total rate, the load sipp cannot make: sipp's -t tn opens a
// connection per registration and reaches only 300–500/s (see
// docs/performance.md), while phones keep one connection each open and
// register over it again and again.
//
// It opens -conns connections to -addr (loopback only), spreads -n devices
// over them (device i on connection i mod conns) and registers each device
// as a phone does: REGISTER, the 401's digest challenge (MD5, qop=auth),
// REGISTER with credentials, 200. Pass "new" registers every device once;
// pass "refresh" registers them again for -dur seconds, cycling through the
// devices. Each connection paces its own registrations (the total rate
// over the connections, staggered), so the rate holds without one
// goroutine dealing them out. Per pass it prints the offered and achieved
// rate, failures (error responses, timeouts, registrations not started
// because the device's previous one was still running), p50/p99/max of a
// registration's time (first REGISTER sent to 200 read) and, with -pid,
// the server's CPU µs per registration (utime+stime from /proc of the
// process and its children, so Kamailio's worker processes count).
//
//	go run ./bench/register/tcpload -addr 127.0.0.1:15060 -conns 1000 -n 10000 \
//	    -rate 10000 -dur 10 -user 'B%05d' -first 1 -password 'pw-bench-%s' -pid $PID
package main

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/digest"
)

type config struct {
	addr     string
	conns    int
	n        int
	rate     float64
	dur      time.Duration
	userFmt  string
	first    int
	passFmt  string
	domain   string
	expires  int
	timeout  time.Duration
	pids     []int
	passes   []string
	maxSlack time.Duration
	pause    time.Duration
}

func main() {
	var c config
	var pids, passes string
	flag.StringVar(&c.addr, "addr", "127.0.0.1:5060", "server's SIP TCP address (loopback only)")
	flag.IntVar(&c.conns, "conns", 1000, "TCP connections")
	flag.IntVar(&c.n, "n", 10000, "devices")
	flag.Float64Var(&c.rate, "rate", 10000, "registrations/s offered, over all connections")
	flag.DurationVar(&c.dur, "dur", 10*time.Second, "length of the refresh pass")
	flag.StringVar(&c.userFmt, "user", "B%05d", "device name format (fmt, of the device number)")
	flag.IntVar(&c.first, "first", 1, "number of the first device")
	flag.StringVar(&c.passFmt, "password", "pw-bench-%s", "password format (fmt, of the device name)")
	flag.StringVar(&c.domain, "domain", "", "domain of the AoR and Request-URI (default: the address)")
	flag.IntVar(&c.expires, "expires", 3600, "Expires of the bindings")
	flag.DurationVar(&c.timeout, "timeout", 5*time.Second, "a registration not answered 200 within this failed")
	flag.StringVar(&pids, "pid", "", "server process id(s), comma-separated, for CPU per registration")
	flag.StringVar(&passes, "passes", "new,refresh", "passes to run, in order (new, refresh)")
	flag.DurationVar(&c.pause, "pause", 2*time.Second, "pause between passes")
	flag.Parse()
	for _, p := range strings.Split(pids, ",") {
		if p = strings.TrimSpace(p); p != "" {
			id, err := strconv.Atoi(p)
			if err != nil {
				fail("bad -pid %q", p)
			}
			c.pids = append(c.pids, id)
		}
	}
	c.passes = strings.Split(passes, ",")
	if c.domain == "" {
		c.domain = c.addr
	}
	c.maxSlack = time.Second
	timeout = c.timeout
	if err := check(c); err != nil {
		fail("%v", err)
	}
	if err := run(c); err != nil {
		fail("%v", err)
	}
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "tcpload: "+format+"\n", a...)
	os.Exit(1)
}

// check keeps the load bounded and on loopback.
func check(c config) error {
	host, _, err := net.SplitHostPort(c.addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr %s: only loopback addresses", c.addr)
	}
	switch {
	case c.conns < 1 || c.conns > 20000:
		return errors.New("-conns: 1..20000")
	case c.n < c.conns:
		return errors.New("-n: at least one device per connection")
	case c.rate <= 0 || c.rate > 100000:
		return errors.New("-rate: up to 100000/s")
	case c.dur <= 0 || c.dur > 5*time.Minute:
		return errors.New("-dur: up to 5m")
	}
	for _, p := range c.passes {
		if p != "new" && p != "refresh" {
			return fmt.Errorf("unknown pass %q (new, refresh)", p)
		}
	}
	return nil
}

func run(c config) error {
	fmt.Printf("tcpload: %d connections to %s, %d devices, %.0f registrations/s; load %s\n",
		c.conns, c.addr, c.n, c.rate, loadavg())
	conns := make([]*conn, c.conns)
	t0 := time.Now()
	for i := range conns {
		nc, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			for _, o := range conns[:i] {
				o.c.Close()
			}
			return fmt.Errorf("connection %d: %w", i, err)
		}
		conns[i] = newConn(c, nc)
	}
	for i := range c.n {
		name := fmt.Sprintf(c.userFmt, c.first+i)
		pw := c.passFmt
		if strings.Contains(pw, "%") {
			pw = fmt.Sprintf(pw, name)
		}
		conns[i%c.conns].add(c, name, pw)
	}
	var readers sync.WaitGroup
	for _, cn := range conns {
		readers.Go(cn.read)
	}
	fmt.Printf("tcpload: %d connections open in %.2f s\n", c.conns, time.Since(t0).Seconds())
	defer func() {
		for _, cn := range conns {
			cn.c.Close()
		}
		readers.Wait()
	}()
	var unclean error
	for i, p := range c.passes {
		if i > 0 {
			time.Sleep(c.pause) // the server's work left from the pass before
		}
		if err := pass(c, conns, p); errors.Is(err, errUnclean) {
			unclean = err
		} else if err != nil {
			return err
		}
	}
	return unclean
}

// pass runs one pass over all connections and prints its figures.
func pass(c config, conns []*conn, name string) error {
	dur := c.dur
	if name == "new" {
		dur = time.Duration(float64(c.n) / c.rate * float64(time.Second))
	}
	st := &stats{}
	for _, cn := range conns {
		cn.stats.Store(st)
	}
	cpu0, self0 := cpuTicks(c.pids), selfTicks()
	start := time.Now().Add(20 * time.Millisecond)
	period := time.Duration(float64(c.conns) / c.rate * float64(time.Second))
	var senders sync.WaitGroup
	for i, cn := range conns {
		offset := time.Duration(int64(period) * int64(i) / int64(c.conns))
		count := -1 // until the end of dur
		if name == "new" {
			count = len(cn.devs)
		}
		senders.Go(func() { cn.send(start.Add(offset), period, start.Add(dur), count, c.maxSlack) })
	}
	senders.Wait()
	sent := time.Now()
	// Wait for the registrations still running (each ends by -timeout).
	for deadline := sent.Add(c.timeout + time.Second); st.running.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	for _, cn := range conns {
		cn.expire(time.Now().Add(time.Hour)) // anything left failed
	}
	// The rate and CPU share over the time until the last answer: a
	// server answering late has not kept up with the offered rate.
	end := sent
	if last := st.lastDone(); last.After(end) {
		end = last
	}
	wall := end.Sub(start)
	cpu1, self1 := cpuTicks(c.pids), selfTicks()
	st.print(name, c.rate, wall, float64(cpu1-cpu0)/clkTck, float64(self1-self0)/clkTck, len(c.pids) > 0)
	if st.unclean {
		return errUnclean
	}
	return nil
}

var errUnclean = errors.New("a pass was not clean")

// device is one registering phone; its fields are guarded by its conn's mu.
type device struct {
	name, password, callID, aor, contact string
	cseq                                 int
	started                              time.Time // zero: no registration running
	cnonce                               int
}

// conn is one TCP connection and the devices registering over it.
type conn struct {
	c      net.Conn
	local  string
	stats  atomic.Pointer[stats]
	wmu    sync.Mutex // writes
	mu     sync.Mutex // devices
	devs   []*device
	byCall map[string]*device
	rq     string // Request-URI
	buf    []byte
}

func newConn(c config, nc net.Conn) *conn {
	return &conn{c: nc, local: nc.LocalAddr().String(), byCall: map[string]*device{}, rq: "sip:" + c.domain}
}

func (cn *conn) add(c config, name, password string) {
	d := &device{name: name, callID: fmt.Sprintf("tcpload-%s-%s", name, cn.local),
		aor:     "<sip:" + name + "@" + c.domain + ">",
		contact: "<sip:" + name + "@" + cn.local + ";transport=tcp>", password: password}
	cn.devs = append(cn.devs, d)
	cn.byCall[d.callID] = d
}

// send starts a registration every period from first until end (or count
// of them, count ≥ 0), cycling through the connection's devices. Behind
// schedule by more than maxSlack it skips ahead (counted as not started).
func (cn *conn) send(first time.Time, period time.Duration, end time.Time, count int, maxSlack time.Duration) {
	st := cn.stats.Load()
	next := 0
	for k := 0; count < 0 || k < count; k++ {
		at := first.Add(time.Duration(k) * period)
		if !at.Before(end) && count < 0 {
			return
		}
		now := time.Now()
		if d := at.Sub(now); d > 0 {
			time.Sleep(d)
		} else if -d > maxSlack {
			st.late.Add(1)
			continue
		}
		cn.expire(time.Now())
		d := cn.devs[next%len(cn.devs)]
		next++
		cn.mu.Lock()
		if !d.started.IsZero() {
			cn.mu.Unlock()
			st.busy.Add(1)
			continue
		}
		d.started = time.Now()
		d.cseq++
		msg := cn.register(d, "")
		cn.mu.Unlock()
		st.running.Add(1)
		st.offered.Add(1)
		if err := cn.write(msg); err != nil {
			cn.finish(d, st, false)
			st.errs.Add(1)
		}
	}
}

func (cn *conn) write(b []byte) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	_, err := cn.c.Write(b)
	return err
}

// timeout is -timeout (set once in main).
var timeout = 5 * time.Second

// expire fails the registrations running longer than the timeout.
func (cn *conn) expire(now time.Time) {
	st := cn.stats.Load()
	cn.mu.Lock()
	var late []*device
	for _, d := range cn.devs {
		if !d.started.IsZero() && now.Sub(d.started) > timeout {
			late = append(late, d)
		}
	}
	cn.mu.Unlock()
	for _, d := range late {
		st.timeouts.Add(1)
		cn.finish(d, st, false)
	}
}

// finish ends d's registration (once) and counts it.
func (cn *conn) finish(d *device, st *stats, ok bool) {
	cn.mu.Lock()
	started := d.started
	d.started = time.Time{}
	cn.mu.Unlock()
	if started.IsZero() {
		return
	}
	st.running.Add(-1)
	if ok {
		st.ok.Add(1)
		st.addLatency(time.Since(started))
		st.done(time.Now())
	} else {
		st.failed.Add(1)
	}
}

// register renders d's REGISTER, with credentials when auth is set.
func (cn *conn) register(d *device, auth string) []byte {
	b := cn.buf[:0]
	b = append(b, "REGISTER "...)
	b = append(b, cn.rq...)
	b = append(b, " SIP/2.0\r\nVia: SIP/2.0/TCP "...)
	b = append(b, cn.local...)
	b = append(b, ";branch=z9hG4bK-"...)
	b = append(b, d.name...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(d.cseq), 10)
	b = append(b, ";rport\r\nMax-Forwards: 70\r\nFrom: "...)
	b = append(b, d.aor...)
	b = append(b, ";tag=t"...)
	b = append(b, d.name...)
	b = append(b, "\r\nTo: "...)
	b = append(b, d.aor...)
	b = append(b, "\r\nCall-ID: "...)
	b = append(b, d.callID...)
	b = append(b, "\r\nCSeq: "...)
	b = strconv.AppendInt(b, int64(d.cseq), 10)
	b = append(b, " REGISTER\r\nContact: "...)
	b = append(b, d.contact...)
	b = append(b, "\r\n"...)
	if auth != "" {
		b = append(b, "Authorization: "...)
		b = append(b, auth...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Expires: 3600\r\nUser-Agent: tcpload\r\nContent-Length: 0\r\n\r\n"...)
	cn.buf = b
	return slices.Clone(b)
}

// read handles the connection's responses until it closes.
func (cn *conn) read() {
	r := bufio.NewReaderSize(cn.c, 64<<10)
	for {
		res, err := readResponse(r)
		if err != nil {
			return
		}
		cn.handle(res)
	}
}

type response struct {
	status            int
	callID, cseq, www string
}

// readResponse reads one response: its status line, the headers this
// client needs, and skips its body.
func readResponse(r *bufio.Reader) (response, error) {
	var res response
	line, err := r.ReadSlice('\n')
	for err == nil && len(bytes.TrimSpace(line)) == 0 { // keep-alive CRLFs
		line, err = r.ReadSlice('\n')
	}
	if err != nil {
		return res, err
	}
	f := bytes.Fields(line)
	if len(f) < 2 || !bytes.HasPrefix(f[0], []byte("SIP/2.0")) {
		return res, fmt.Errorf("bad status line %q", line)
	}
	res.status, _ = strconv.Atoi(string(f[1]))
	length := 0
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return res, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		val = bytes.TrimSpace(val)
		switch strings.ToLower(string(bytes.TrimSpace(name))) {
		case "call-id", "i":
			res.callID = string(val)
		case "cseq":
			res.cseq = string(val)
		case "www-authenticate":
			res.www = string(val)
		case "content-length", "l":
			length, _ = strconv.Atoi(string(val))
		}
	}
	if length > 0 {
		if _, err := r.Discard(length); err != nil {
			return res, err
		}
	}
	return res, nil
}

// handle answers a 401 with credentials and ends the registration on a
// final response.
func (cn *conn) handle(res response) {
	st := cn.stats.Load()
	cn.mu.Lock()
	d := cn.byCall[res.callID]
	if d == nil || d.started.IsZero() || !strings.HasPrefix(res.cseq, strconv.Itoa(d.cseq)+" ") {
		cn.mu.Unlock()
		if res.status >= 200 {
			st.stray.Add(1)
		}
		return
	}
	switch {
	case res.status < 200:
		cn.mu.Unlock()
		return
	case res.status == 401 && res.www != "" && d.cseq%2 == 1:
		auth, err := cn.authorization(d, res.www)
		if err != nil {
			cn.mu.Unlock()
			st.errs.Add(1)
			cn.finish(d, st, false)
			return
		}
		d.cseq++
		msg := cn.register(d, auth)
		cn.mu.Unlock()
		if err := cn.write(msg); err != nil {
			st.errs.Add(1)
			cn.finish(d, st, false)
		}
		return
	}
	cn.mu.Unlock()
	if res.status == 200 {
		cn.finish(d, st, true)
		return
	}
	st.rejected.Add(1)
	st.reject(res.status)
	cn.finish(d, st, false)
}

// authorization answers the challenge www for d (MD5, qop=auth).
func (cn *conn) authorization(d *device, www string) (string, error) {
	ch, err := digest.ParseCredentials(www)
	if err != nil {
		return "", err
	}
	if ch.Algorithm != "" && !strings.EqualFold(ch.Algorithm, "MD5") {
		return "", fmt.Errorf("algorithm %s", ch.Algorithm)
	}
	qop := ""
	for _, q := range strings.Split(ch.QOP, ",") {
		if strings.TrimSpace(q) == "auth" {
			qop = "auth"
		}
	}
	d.cnonce++
	cnonce := strconv.FormatInt(int64(d.cnonce), 16) + "c" + d.name
	ha1 := md5hex(d.name + ":" + ch.Realm + ":" + d.password)
	ha2 := md5hex("REGISTER:" + cn.rq)
	var resp string
	if qop != "" {
		resp = md5hex(ha1 + ":" + ch.Nonce + ":00000001:" + cnonce + ":auth:" + ha2)
	} else {
		resp = md5hex(ha1 + ":" + ch.Nonce + ":" + ha2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `Digest username="%s",realm="%s",nonce="%s",uri="%s",response="%s",algorithm=MD5`,
		d.name, ch.Realm, ch.Nonce, cn.rq, resp)
	if qop != "" {
		fmt.Fprintf(&b, `,qop=auth,nc=00000001,cnonce="%s"`, cnonce)
	}
	if ch.Opaque != "" {
		fmt.Fprintf(&b, `,opaque="%s"`, ch.Opaque)
	}
	if os.Getenv("TCPLOAD_DEBUG") != "" {
		fmt.Fprintln(os.Stderr, www, "=>", b.String())
	}
	return b.String(), nil
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// stats are one pass's counts.
type stats struct {
	offered, ok, failed, running atomic.Int64
	busy, late, timeouts         atomic.Int64
	errs, rejected, stray        atomic.Int64
	last                         atomic.Int64 // UnixNano of the last 200
	mu                           sync.Mutex
	lat                          []time.Duration
	statuses                     map[int]int // of rejections
	unclean                      bool
}

func (s *stats) reject(status int) {
	s.mu.Lock()
	if s.statuses == nil {
		s.statuses = map[int]int{}
	}
	s.statuses[status]++
	s.mu.Unlock()
}

// done records an answer's time (the last one ends the pass's span).
func (s *stats) done(t time.Time) {
	for {
		last := s.last.Load()
		if t.UnixNano() <= last || s.last.CompareAndSwap(last, t.UnixNano()) {
			return
		}
	}
}

func (s *stats) lastDone() time.Time { return time.Unix(0, s.last.Load()) }

func (s *stats) addLatency(d time.Duration) {
	s.mu.Lock()
	if len(s.lat) < 10_000_000 {
		s.lat = append(s.lat, d)
	}
	s.mu.Unlock()
}

func (s *stats) print(name string, rate float64, wall time.Duration, cpu, self float64, server bool) {
	s.mu.Lock()
	lat := slices.Clone(s.lat)
	s.mu.Unlock()
	slices.Sort(lat)
	q := func(p float64) string {
		if len(lat) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())/1000)
	}
	ok, secs := s.ok.Load(), wall.Seconds()
	notStarted := s.busy.Load() + s.late.Load()
	// Clean as the side-by-side script judges a step: < 0.1% failed (or
	// not started) and >= 97% of the offered rate achieved.
	due := s.offered.Load() + notStarted
	verdict := "clean"
	if 1000*(s.failed.Load()+notStarted) >= due || float64(ok)/secs < 0.97*rate {
		verdict, s.unclean = "NOT CLEAN", true
	}
	fmt.Printf("%-8s offered %6.0f/s: %7d started %7d ok %5d failed (%d timeouts, %d rejected, %d errors; %d not started: busy %d, late %d) in %5.2f s = %6.0f registrations/s; latency ms p50 %s p99 %s max %s; %s\n",
		name, rate, s.offered.Load(), ok, s.failed.Load(), s.timeouts.Load(), s.rejected.Load(), s.errs.Load(),
		notStarted, s.busy.Load(), s.late.Load(), secs, float64(ok)/secs, q(0.5), q(0.99), q(1), verdict)
	if ok > 0 {
		line := fmt.Sprintf("%-8s CPU: load generator %.0f%% of a core, %.0f µs per registration", name, 100*self/secs, 1e6*self/float64(ok))
		if server {
			line += fmt.Sprintf("; server %.0f%% of a core, %.0f µs per registration", 100*cpu/secs, 1e6*cpu/float64(ok))
		}
		fmt.Println(line + "; load " + loadavg())
	}
	if len(s.statuses) > 0 {
		fmt.Printf("%-8s rejected with status: %v\n", name, s.statuses)
	}
	if s.stray.Load() > 0 {
		fmt.Printf("%-8s %d final responses matched no running registration\n", name, s.stray.Load())
	}
}

// clkTck is USER_HZ, 100 on Linux.
const clkTck = 100

// cpuTicks sums utime+stime of pids and their descendants.
func cpuTicks(pids []int) int64 {
	var t int64
	seen := map[int]bool{}
	var walk func(pid int)
	walk = func(pid int) {
		if seen[pid] {
			return
		}
		seen[pid] = true
		t += statTicks(pid)
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		for _, f := range tasks {
			b, _ := os.ReadFile(f)
			for _, c := range strings.Fields(string(b)) {
				if id, err := strconv.Atoi(c); err == nil {
					walk(id)
				}
			}
		}
	}
	for _, p := range pids {
		walk(p)
	}
	return t
}

func selfTicks() int64 { return statTicks(os.Getpid()) }

// statTicks is utime+stime of one process (all its threads).
func statTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte(") "))
	if !ok {
		return 0
	}
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
