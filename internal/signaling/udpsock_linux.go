//go:build linux && (amd64 || arm64)

package signaling

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// udpSock is the listening UDP socket, read in batches with recvmmsg and
// written with sendto, both through the socket's raw connection (the
// runtime's poller waits when the socket is empty or full; a write
// takes the socket's write lock only then, see WriteTo) and as raw
// system calls: they never block (the socket is non-blocking and
// MSG_DONTWAIT is set), so they need not enter the scheduler's system
// call path, whose entry wakes the runtime's monitor thread when the
// process was idle (once per burst of traffic, on every message at a
// few thousand a second).
type udpSock struct {
	*net.UDPConn
	rc syscall.RawConn
	v6 bool // an AF_INET6 socket: IPv4 destinations as ::ffff:a.b.c.d

	reads atomic.Uint64 // reads that returned datagrams (tests)
}

// mmsghdr is struct mmsghdr of recvmmsg(2) on 64-bit Linux.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

func newUDPSock(c *net.UDPConn) (*udpSock, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	u := &udpSock{UDPConn: c, rc: rc}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		var sa syscall.Sockaddr
		sa, serr = syscall.Getsockname(int(fd))
		_, u.v6 = sa.(*syscall.SockaddrInet6)
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, os.NewSyscallError("getsockname", serr)
	}
	return u, nil
}

// batchReader is one read loop's recvmmsg state.
type batchReader struct {
	u     *udpSock
	dgs   []datagram
	hdrs  []mmsghdr
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrAny
	n     int
	errno syscall.Errno
	recv  func(fd uintptr) bool // r.recvmmsg, bound once
}

func (u *udpSock) newBatchReader(dgs []datagram) *batchReader {
	r := &batchReader{u: u, dgs: dgs, hdrs: make([]mmsghdr, len(dgs)),
		iovs: make([]syscall.Iovec, len(dgs)), names: make([]syscall.RawSockaddrAny, len(dgs))}
	for i := range dgs {
		r.iovs[i].Base = &dgs[i].buf[0]
		r.iovs[i].SetLen(len(dgs[i].buf))
	}
	r.recv = r.recvmmsg
	return r
}

// read reads at least one datagram into r.dgs (waiting for one), at
// most all, and returns how many.
func (r *batchReader) read() (int, error) {
	for i := range r.hdrs {
		r.hdrs[i] = mmsghdr{hdr: syscall.Msghdr{Name: (*byte)(unsafe.Pointer(&r.names[i])),
			Namelen: syscall.SizeofSockaddrAny, Iov: &r.iovs[i], Iovlen: 1}}
	}
	r.n, r.errno = 0, 0
	if err := r.u.rc.Read(r.recv); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", r.errno)
	}
	r.u.reads.Add(1)
	for i := 0; i < r.n; i++ {
		r.dgs[i].n = int(r.hdrs[i].n)
		r.dgs[i].from = sockaddrUDP(&r.names[i])
	}
	return r.n, nil
}

func (r *batchReader) recvmmsg(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])),
			uintptr(len(r.hdrs)), syscall.MSG_DONTWAIT, 0, 0)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // wait in the poller
		}
		r.n, r.errno = int(n), e
		return true
	}
}

// sockaddrUDP is the address recvmmsg wrote, as net's ReadFrom gives it.
func sockaddrUDP(sa *syscall.RawSockaddrAny) *net.UDPAddr {
	switch sa.Addr.Family {
	case syscall.AF_INET:
		in := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&in.Port))
		return &net.UDPAddr{IP: append(net.IP(nil), in.Addr[:]...), Port: int(p[0])<<8 | int(p[1])}
	case syscall.AF_INET6:
		in := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&in.Port))
		a := &net.UDPAddr{IP: append(net.IP(nil), in.Addr[:]...), Port: int(p[0])<<8 | int(p[1])}
		if in.Scope_id != 0 {
			if ifi, err := net.InterfaceByIndex(int(in.Scope_id)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	}
	return &net.UDPAddr{}
}

// sendState is one sendto's arguments and result, pooled: a closure
// per write would allocate what it captures.
type sendState struct {
	sa    syscall.RawSockaddrAny
	salen int
	b     []byte
	n     int
	errno syscall.Errno
	again bool                  // try found the socket's buffer full
	send  func(fd uintptr) bool // st.sendto, bound once
	try   func(fd uintptr)      // st.tryOnce, bound once
}

var sendStates = sync.Pool{New: func() any {
	st := &sendState{}
	st.send = st.sendto
	st.try = st.tryOnce
	return st
}}

// tryOnce is sendto without waiting: again when the buffer is full.
func (st *sendState) tryOnce(fd uintptr) { st.again = !st.sendto(fd) }

func (st *sendState) sendto(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&st.b[0])), uintptr(len(st.b)),
			syscall.MSG_DONTWAIT, uintptr(unsafe.Pointer(&st.sa)), uintptr(st.salen))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // wait until the socket can be written
		}
		st.n, st.errno = int(n), e
		return true
	}
}

// WriteTo writes b to addr with sendto (see udpSock).
func (u *udpSock) WriteTo(b []byte, addr net.Addr) (int, error) {
	a, ok := addr.(*net.UDPAddr)
	if !ok || len(b) == 0 {
		return u.UDPConn.WriteTo(b, addr)
	}
	st := sendStates.Get().(*sendState)
	defer sendStates.Put(st)
	salen, ok := u.sockaddr(a, &st.sa)
	if !ok {
		return u.UDPConn.WriteTo(b, addr) // net's errors for what it cannot send
	}
	st.salen, st.b, st.n, st.errno, st.again = salen, b, 0, 0, false
	// The socket's write lock (rc.Write) serves stream sockets, whose
	// writes must not interleave; a datagram is sent whole by one
	// sendto. Taking it made the PBX's writers (the read loop answering,
	// calls' goroutines relaying) queue for it, each loser parked and
	// woken by the winner (issue 18, ninth pass). Control only holds a
	// reference, so the descriptor stays open; only a full buffer waits
	// in the poller, through the lock.
	err := u.rc.Control(st.try)
	if err == nil && st.again {
		err = u.rc.Write(st.send)
	}
	st.b = nil
	if err != nil {
		return 0, err
	}
	if st.errno != 0 {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: u.LocalAddr(), Addr: addr, Err: os.NewSyscallError("sendto", st.errno)}
	}
	return st.n, nil
}

// sockaddr fills sa with a for this socket's family.
func (u *udpSock) sockaddr(a *net.UDPAddr, sa *syscall.RawSockaddrAny) (int, bool) {
	if a.Port < 0 || a.Port > 0xffff {
		return 0, false
	}
	*sa = syscall.RawSockaddrAny{}
	if !u.v6 {
		ip4 := a.IP.To4()
		if ip4 == nil {
			return 0, false
		}
		in := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		in.Family = syscall.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&in.Port))
		p[0], p[1] = byte(a.Port>>8), byte(a.Port)
		copy(in.Addr[:], ip4)
		return syscall.SizeofSockaddrInet4, true
	}
	ip16 := a.IP.To16()
	if ip16 == nil || a.Zone != "" {
		return 0, false // a zone needs its interface index: net does that
	}
	in := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
	in.Family = syscall.AF_INET6
	p := (*[2]byte)(unsafe.Pointer(&in.Port))
	p[0], p[1] = byte(a.Port>>8), byte(a.Port)
	copy(in.Addr[:], ip16)
	return syscall.SizeofSockaddrInet6, true
}
