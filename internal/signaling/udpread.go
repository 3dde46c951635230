package signaling

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The UDP listener's read loop is the PBX's own (issue 18, eighth pass).
// sipgo's (TransportUDP.Serve) reads one datagram per system call, and
// the PBX ran four of them on the socket so that checking and answering
// REGISTERs was not one goroutine's work: but four readers of one socket
// take turns on its read lock, and each datagram read handed the lock
// to the next reader, a goroutine woken (often on another thread) only
// to find the socket empty and sleep again. And each read entered the
// scheduler's system call path, which wakes the runtime's monitor
// thread (sysmon) whenever the process had been idle. At 300 calls/s
// the profile showed both (futexwakeup from fdMutex.rwunlock and from
// entersyscallWakeSysmon under recvfrom, ~6% of the CPU, and the
// threads woken for them).
//
// Now one loop reads the socket, up to udpBatch datagrams a system call
// (recvmmsg on Linux, udpsock_linux.go), and serves them as the read
// filter did: a read of one datagram, the common case below a few
// thousand messages a second, is served in the loop itself with no
// other goroutine woken. A read of udpBusy or more (the loop fell
// behind: a burst of REGISTERs) starts another loop, which reads while
// this one serves, and so on up to UDPReaders loops; a loop held in a
// handler longer than udpStall gets company the same way. An extra loop
// ends after a small read while another loop reads. Datagrams the read
// filter leaves to sipgo (a method route does not handle, a stray
// response) reach sipgo's UDP read loop through passConn, which reads
// them from a channel and writes through the socket.

// udpBatch is the most datagrams one read takes.
const udpBatch = 16

// udpBusy is the smallest read that shows the loop behind: another loop
// then starts reading while this one serves (up to UDPReaders loops);
// an extra loop ends after a smaller read while another loop reads.
const udpBusy = 4

// udpBufSize holds any UDP datagram (sipgo's TransportBufferReadSize): a
// larger message than MaxMessageSize must reach the parser whole to be
// refused as too large, not cut.
const udpBufSize = 65535

// udpStall is how long the read loops may all be serving, none reading,
// before another loop starts: a datagram held in the loop (a handler
// that waits) must not stop the others (with sipgo's loops, the other
// three read on). Checked by a ticker, the only wake-up this costs.
const udpStall = 50 * time.Millisecond

// datagram is one read datagram: buf[:n] from from.
type datagram struct {
	buf  []byte
	n    int
	from *net.UDPAddr
}

// udpReader is the read loops' shared state.
type udpReader struct {
	s    *Server
	sock *udpSock
	pass *passConn
	idle chan *batchReader // the buffers of loops not running (nil: not made yet)
	errc chan error

	loops   atomic.Int32  // read loops running
	reading atomic.Int32  // loops in a read (waiting for the socket)
	served  atomic.Uint64 // reads served
}

// serveUDP reads the listening socket until it is closed, handing what
// the read filter leaves to sipgo to pass: one read loop, more while
// reads show a backlog or all loops are held longer than udpStall.
func (s *Server) serveUDP(sock *udpSock, pass *passConn) error {
	r := &udpReader{s: s, sock: sock, pass: pass, idle: make(chan *batchReader, UDPReaders),
		errc: make(chan error, UDPReaders)}
	for range UDPReaders {
		r.idle <- nil
	}
	r.start()
	t := time.NewTicker(udpStall)
	defer t.Stop()
	var last uint64
	for {
		select {
		case err := <-r.errc:
			return err
		case <-t.C:
			served := r.served.Load()
			if served == last && r.reading.Load() == 0 {
				r.start()
			}
			last = served
		}
	}
}

// start starts a read loop unless UDPReaders run.
func (r *udpReader) start() {
	select {
	case br := <-r.idle:
		r.loops.Add(1)
		go r.loop(br)
	default:
	}
}

// loop reads and serves datagrams until the socket is closed, or until
// it is a loop too many.
func (r *udpReader) loop(br *batchReader) {
	if br == nil {
		dgs := make([]datagram, udpBatch)
		for i := range dgs {
			dgs[i].buf = make([]byte, udpBufSize)
		}
		br = r.sock.newBatchReader(dgs)
	}
	for {
		r.reading.Add(1)
		n, err := br.read()
		r.reading.Add(-1)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				err = nil
			} else {
				r.s.log.Error("sip udp read", "error", err)
			}
			r.loops.Add(-1)
			r.errc <- err
			return
		}
		if n >= udpBusy && r.reading.Load() == 0 {
			r.start() // reads on while this loop serves the burst
		}
		for i := range br.dgs[:n] {
			r.serveOne(&br.dgs[i])
		}
		r.served.Add(1)
		if n < udpBusy && r.reading.Load() > 0 && r.leave() {
			r.idle <- br
			return // another loop reads: no turns taken on the socket's lock
		}
	}
}

// leave counts a loop out unless it is the last.
func (r *udpReader) leave() bool {
	for {
		l := r.loops.Load()
		if l <= 1 {
			return false
		}
		if r.loops.CompareAndSwap(l, l-1) {
			return true
		}
	}
}

// serveOne does what sipgo's read loop did with a datagram: skip it
// when it is all zero bytes, else the read filter; what the filter
// leaves to sipgo goes to its loop (copied: the buffer is read into
// again).
func (r *udpReader) serveOne(d *datagram) {
	data := d.buf[:d.n]
	if len(bytes.Trim(data, "\x00")) == 0 {
		return
	}
	out := r.s.filterUDP(data, d.from)
	if len(out) > 0 {
		r.pass.put(bytes.Clone(out), d.from)
	}
}

// passConn is the socket as sipgo's UDP read loop sees it: it reads the
// datagrams the PBX's loop hands on, and writes, and reports its address,
// through the socket. Closing it ends sipgo's loop, not the socket.
type passConn struct {
	sock   *udpSock
	local  *net.UDPAddr // its own value: readFilter knows its reads by it
	in     chan passed
	closed chan struct{}
	once   sync.Once
}

type passed struct {
	data []byte
	from *net.UDPAddr
}

// passQueue bounds the datagrams waiting for sipgo's loop; beyond it
// they are dropped, as a full socket buffer drops them.
const passQueue = 256

func newPassConn(sock *udpSock) *passConn {
	a := *sock.LocalAddr().(*net.UDPAddr)
	return &passConn{sock: sock, local: &a, in: make(chan passed, passQueue), closed: make(chan struct{})}
}

// put hands a datagram to sipgo's loop without waiting.
func (p *passConn) put(data []byte, from *net.UDPAddr) {
	select {
	case p.in <- passed{data, from}:
	default:
	}
}

func (p *passConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-p.in:
		return copy(b, d.data), d.from, nil
	case <-p.closed:
		return 0, nil, net.ErrClosed
	}
}

func (p *passConn) WriteTo(b []byte, addr net.Addr) (int, error) { return p.sock.WriteTo(b, addr) }
func (p *passConn) LocalAddr() net.Addr                          { return p.local }
func (p *passConn) SetDeadline(time.Time) error                  { return nil }
func (p *passConn) SetReadDeadline(time.Time) error              { return nil }
func (p *passConn) SetWriteDeadline(time.Time) error             { return nil }

// Close ends sipgo's read loop; the socket is the server's to close.
func (p *passConn) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}
