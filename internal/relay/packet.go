package relay

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// maxPacket is the read buffer: an Ethernet MTU's worth and room for an
// SRTP transform to grow a packet.
const maxPacket = 1500 + 128

// readLoop reads one socket of l until Close, handing each packet to
// forward in the one buffer it owns.
func (s *Session) readLoop(l *Leg, rtcp bool) {
	defer s.wg.Done()
	conn := l.rtp
	if rtcp {
		conn = l.rtcp
	}
	buf := make([]byte, maxPacket)
	for {
		n, src, err := conn.ReadFromUDPAddrPort(buf[:1500])
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.r.log.Warn("relay: read stopped", "side", l.side, "rtcp", rtcp, "err", err)
			}
			return
		}
		s.forward(l, rtcp, buf[:n], src)
	}
}

// forward is the packet path, the one place every relayed packet goes
// through: from the phone of leg from (checked against its latch), through
// from.In and to.Out, out of the other leg's socket to its phone.
func (s *Session) forward(from *Leg, rtcp bool, pkt []byte, src netip.AddrPort) {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	st := from.st.Load()
	latched := st.rtp
	if rtcp {
		latched = st.rtcpSrc
	}
	switch {
	case latched == src:
	case latched.IsValid() || !st.allowed(src.Addr()):
		// Not the latched address, or (before latching) neither the
		// SDP's nor the flow's: a third address may not take the stream
		// over nor inject packets (issue 15 item 5).
		from.Dropped.Add(1)
		return
	default:
		from.latch(st, src, rtcp)
	}
	from.Received.Add(1)
	s.last.Store(time.Now().UnixNano())
	if len(pkt) < 4 {
		return // a keep-alive (some phones send a few bytes to open their NAT)
	}
	if from.In != nil {
		var ok bool
		if pkt, ok = from.In(pkt, rtcp); !ok {
			from.Dropped.Add(1)
			return
		}
	}
	to := s.legs[from.side.other()]
	dst := to.st.Load().dest(rtcp)
	if !dst.IsValid() {
		from.Dropped.Add(1) // the other phone is behind NAT and not heard from yet
		return
	}
	if to.Out != nil {
		var ok bool
		if pkt, ok = to.Out(pkt, rtcp); !ok {
			to.Dropped.Add(1)
			return
		}
	}
	conn := to.rtp
	if rtcp {
		conn = to.rtcp
	}
	if _, err := conn.WriteToUDPAddrPort(pkt, dst); err == nil {
		to.Sent.Add(1)
	}
}

// latch fixes the leg's RTP (or RTCP) source at src. Only the read loop of
// that socket latches it, so a lost compare-and-swap means the SDP changed
// meanwhile: the next packet decides again.
func (l *Leg) latch(st *legState, src netip.AddrPort, rtcp bool) {
	next := *st
	if rtcp {
		next.rtcpSrc = src
	} else {
		next.rtp = src
	}
	if l.st.CompareAndSwap(st, &next) {
		l.s.r.log.Debug("relay: latched", "side", l.side, "rtcp", rtcp, "from", src, "sdp", st.sdp, "flow", st.flow)
	}
}
