package provision

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// zone is a time zone reduced to what desk phones understand: a standard
// UTC offset and, optionally, a yearly daylight-saving rule in the POSIX TZ
// "Mm.w.d/time" form (RFC 8536 section 3.3, IEEE 1003.1 TZ).
type zone struct {
	Name   string // IANA name as configured
	POSIX  string // normalised POSIX TZ string, e.g. CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00
	Offset int    // standard offset east of UTC, seconds
	DST    *dstRule
}

// dstRule is a daylight-saving rule: Save seconds ahead of standard time
// from Start to End.
type dstRule struct {
	Save       int
	Start, End transition
}

// transition is "month m, week w (5 = last), weekday d (0 = Sunday) at
// Time seconds after local midnight".
type transition struct {
	Month, Week, Weekday, Time int
}

// posixZones are the POSIX rules of common zones, so configurations do not
// depend on the host's tzdata. Others are read from /usr/share/zoneinfo.
var posixZones = map[string]string{
	"UTC":                 "UTC0",
	"Etc/UTC":             "UTC0",
	"Europe/Amsterdam":    "CET-1CEST,M3.5.0,M10.5.0/3",
	"Europe/Brussels":     "CET-1CEST,M3.5.0,M10.5.0/3",
	"Europe/Berlin":       "CET-1CEST,M3.5.0,M10.5.0/3",
	"Europe/Paris":        "CET-1CEST,M3.5.0,M10.5.0/3",
	"Europe/Madrid":       "CET-1CEST,M3.5.0,M10.5.0/3",
	"Europe/Rome":         "CET-1CEST,M3.5.0,M10.5.0/3",
	"Europe/Vienna":       "CET-1CEST,M3.5.0,M10.5.0/3",
	"Europe/Zurich":       "CET-1CEST,M3.5.0,M10.5.0/3",
	"Europe/London":       "GMT0BST,M3.5.0/1,M10.5.0",
	"Europe/Lisbon":       "WET0WEST,M3.5.0/1,M10.5.0",
	"Europe/Helsinki":     "EET-2EEST,M3.5.0/3,M10.5.0/4",
	"America/New_York":    "EST5EDT,M3.2.0,M11.1.0",
	"America/Chicago":     "CST6CDT,M3.2.0,M11.1.0",
	"America/Denver":      "MST7MDT,M3.2.0,M11.1.0",
	"America/Los_Angeles": "PST8PDT,M3.2.0,M11.1.0",
	"Asia/Tokyo":          "JST-9",
	"Asia/Kolkata":        "IST-5:30",
	"Australia/Sydney":    "AEST-10AEDT,M10.1.0,M4.1.0/3",
}

// lookupZone resolves an IANA name. Unknown names fall back to UTC; the
// error says why so the caller can log it.
func lookupZone(name string) (zone, error) {
	if name == "" {
		name = "UTC"
	}
	tz, ok := posixZones[name]
	var err error
	if !ok {
		tz, err = systemPOSIX(name)
	}
	if err == nil {
		var z zone
		if z, err = parsePOSIX(tz); err == nil {
			z.Name = name
			return z, nil
		}
	}
	z, _ := parsePOSIX("UTC0")
	z.Name = "UTC"
	return z, fmt.Errorf("time zone %q: %w", name, err)
}

// systemPOSIX reads the POSIX footer of a TZif v2+ file (its last line).
func systemPOSIX(name string) (string, error) {
	if _, err := time.LoadLocation(name); err != nil || strings.Contains(name, "..") {
		return "", fmt.Errorf("unknown zone")
	}
	b, err := os.ReadFile(filepath.Join("/usr/share/zoneinfo", filepath.FromSlash(name)))
	if err != nil {
		return "", fmt.Errorf("read tzdata: %w", err)
	}
	b = bytes.TrimRight(b, "\n")
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 || !bytes.HasPrefix(b, []byte("TZif")) {
		return "", fmt.Errorf("no POSIX footer")
	}
	return string(b[i+1:]), nil
}

// parsePOSIX parses "std offset [dst [offset] [,start[/time],end[/time]]]"
// with M-form rules only (every zone in tzdata uses them).
func parsePOSIX(s string) (zone, error) {
	p := &tzParser{s: s}
	std := p.name()
	off, ok := p.offset()
	if std == "" || !ok {
		return zone{}, fmt.Errorf("bad POSIX TZ %q", s)
	}
	z := zone{Offset: -off}
	if p.done() {
		z.POSIX = fmt.Sprintf("%s%s", std, fmtOffset(off))
		return z, nil
	}
	dst := p.name()
	dstOff, ok := p.offset()
	if !ok {
		dstOff = off - 3600
	}
	r := &dstRule{Save: off - dstOff}
	if dst == "" || !p.eat(',') || !p.rule(&r.Start) || !p.eat(',') || !p.rule(&r.End) || !p.done() {
		return zone{}, fmt.Errorf("bad POSIX TZ %q", s)
	}
	z.DST = r
	z.POSIX = fmt.Sprintf("%s%s%s%s,%s,%s", std, fmtOffset(off), dst, fmtOffset(dstOff),
		fmtTransition(r.Start), fmtTransition(r.End))
	return z, nil
}

type tzParser struct {
	s string
	i int
}

func (p *tzParser) done() bool { return p.i >= len(p.s) }

func (p *tzParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *tzParser) name() string {
	if p.eat('<') {
		j := strings.IndexByte(p.s[p.i:], '>')
		if j < 0 {
			return ""
		}
		n := p.s[p.i-1 : p.i+j+1]
		p.i += j + 1
		return n
	}
	j := p.i
	for p.i < len(p.s) && (p.s[p.i] >= 'A' && p.s[p.i] <= 'Z' || p.s[p.i] >= 'a' && p.s[p.i] <= 'z') {
		p.i++
	}
	if p.i-j < 3 {
		p.i = j
		return ""
	}
	return p.s[j:p.i]
}

// offset parses [+-]hh[:mm[:ss]] into seconds (POSIX sign: west positive).
func (p *tzParser) offset() (int, bool) {
	sign := 1
	if p.eat('-') {
		sign = -1
	} else {
		p.eat('+')
	}
	secs, ok := p.clock()
	return sign * secs, ok
}

func (p *tzParser) clock() (int, bool) {
	total := 0
	for part, mult := 0, 3600; part < 3; part, mult = part+1, mult/60 {
		n, ok := p.number()
		if !ok {
			return 0, part > 0
		}
		total += n * mult
		if !p.eat(':') {
			return total, true
		}
	}
	return total, true
}

func (p *tzParser) number() (int, bool) {
	j := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	n, err := strconv.Atoi(p.s[j:p.i])
	return n, err == nil
}

// rule parses Mm.w.d[/time]; the default time is 02:00.
func (p *tzParser) rule(t *transition) bool {
	if !p.eat('M') {
		return false
	}
	var ok1, ok2, ok3 bool
	t.Month, ok1 = p.number()
	p.eat('.')
	t.Week, ok2 = p.number()
	p.eat('.')
	t.Weekday, ok3 = p.number()
	t.Time = 7200
	if p.eat('/') {
		sign := 1
		if p.eat('-') {
			sign = -1
		}
		secs, ok := p.clock()
		if !ok {
			return false
		}
		t.Time = sign * secs
	}
	return ok1 && ok2 && ok3 && t.Month >= 1 && t.Month <= 12 && t.Week >= 1 && t.Week <= 5 && t.Weekday >= 0 && t.Weekday <= 6
}

func fmtOffset(secs int) string {
	sign := ""
	if secs < 0 {
		sign, secs = "-", -secs
	}
	h, m := secs/3600, secs%3600/60
	if m != 0 {
		return fmt.Sprintf("%s%d:%02d", sign, h, m)
	}
	return fmt.Sprintf("%s%d", sign, h)
}

func fmtTransition(t transition) string {
	return fmt.Sprintf("M%d.%d.%d/%s", t.Month, t.Week, t.Weekday, hms(t.Time))
}

func hms(secs int) string {
	sign := ""
	if secs < 0 {
		sign, secs = "-", -secs
	}
	return fmt.Sprintf("%s%02d:%02d:%02d", sign, secs/3600, secs%3600/60, secs%60)
}

// mondayWeekday maps POSIX weekdays (0 = Sunday) to 1 = Monday … 7 = Sunday,
// the numbering Snom and Yealink use.
func mondayWeekday(d int) int {
	if d == 0 {
		return 7
	}
	return d
}

// SnomDST formats the rule as Snom's <dst>: "save MM.WW.DD HH:MM:SS MM.WW.DD HH:MM:SS".
func (z zone) SnomDST() string {
	if z.DST == nil {
		return ""
	}
	f := func(t transition) string {
		return fmt.Sprintf("%02d.%02d.%02d %s", t.Month, t.Week, mondayWeekday(t.Weekday), hms(t.Time))
	}
	return fmt.Sprintf("%d %s %s", z.DST.Save, f(z.DST.Start), f(z.DST.End))
}

// YealinkZone is local_time.time_zone: hours east of UTC, "+5:30" style for
// fractional zones, clamped to Yealink's -11..+14.
func (z zone) YealinkZone() string {
	off := min(max(z.Offset, -11*3600), 14*3600)
	s := fmtOffset(off)
	if off >= 0 {
		s = "+" + s
	}
	return s
}

// YealinkTransition formats a DST change as local_time.start_time/end_time
// for dst_time_type 1: "month/week/weekday/hour".
func yealinkTransition(t transition) string {
	return fmt.Sprintf("%d/%d/%d/%d", t.Month, t.Week, mondayWeekday(t.Weekday), t.Time/3600)
}

// YealinkStart is local_time.start_time.
func (z zone) YealinkStart() string { return yealinkTransition(z.DST.Start) }

// YealinkEnd is local_time.end_time.
func (z zone) YealinkEnd() string { return yealinkTransition(z.DST.End) }

// SaveMinutes is the DST shift in minutes (local_time.offset_time).
func (z zone) SaveMinutes() int { return z.DST.Save / 60 }
