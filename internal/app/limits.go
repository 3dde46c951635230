package app

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// httpLimits bound what slow or idle HTTP clients can hold (issue 11: 2,100
// slow connections exhausted the file descriptors).
type httpLimits struct {
	ReadHeader time.Duration // request line and headers
	Read       time.Duration // whole request, body included (slow /signin bodies)
	Idle       time.Duration // keep-alive between requests
	MaxConns   int           // open connections; more wait in the kernel's backlog
}

// defaultHTTPLimits sizes the connection cap from the file limit: a quarter
// of it for HTTP, half for SIP TCP (sipLimits), the rest for the store,
// RTP sockets and outgoing connections.
func defaultHTTPLimits() httpLimits {
	return httpLimits{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Idle: 2 * time.Minute,
		MaxConns: max(64, min(4096, fileLimit()/4))}
}

// sipLimits are signaling's TCP caps: as configured, else sized from the
// file limit.
func (c Config) sipLimits() signaling.TCPLimits {
	l := signaling.DefaultTCPLimits()
	l.MaxConns = max(64, min(l.MaxConns, fileLimit()/2))
	if c.SIPMaxConns > 0 {
		l.MaxConns = c.SIPMaxConns
	}
	if c.SIPMaxConnsPerSource > 0 {
		l.MaxPerSource = c.SIPMaxConnsPerSource
	}
	return l
}

// newHTTPServer builds the HTTP server with its timeouts. ReadTimeout does
// not cut long answers such as event streams: net/http clears the read
// deadline once the request is read (TestHTTPSlowBodyClosedStreamKept).
func newHTTPServer(h http.Handler, log *slog.Logger, l httpLimits) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: l.ReadHeader, ReadTimeout: l.Read, IdleTimeout: l.Idle,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
}

// limitListener accepts at most n connections at a time; Accept waits for
// one to close (like x/net/netutil.LimitListener).
type limitListener struct {
	net.Listener
	sem  chan struct{}
	done chan struct{}
	once sync.Once
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// fileLimit is the process's soft RLIMIT_NOFILE (1024 when unknown).
func fileLimit() int {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil || r.Cur == 0 {
		return 1024
	}
	return int(min(r.Cur, 1<<20))
}

// RaiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit, so
// connection floods meet the caps above before the kernel's limit. It
// returns the limit in force.
func RaiseFileLimit() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			return 0, err
		}
	}
	return r.Cur, nil
}
