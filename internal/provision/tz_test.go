package provision

import "testing"

func TestParsePOSIX(t *testing.T) {
	tests := []struct {
		in, posix, snom, yealink string
		offset                   int
		ok                       bool
	}{
		{"UTC0", "UTC0", "", "+0", 0, true},
		{"CET-1CEST,M3.5.0,M10.5.0/3", "CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00",
			"3600 03.05.07 02:00:00 10.05.07 03:00:00", "+1", 3600, true},
		{"EST5EDT,M3.2.0,M11.1.0", "EST5EDT4,M3.2.0/02:00:00,M11.1.0/02:00:00",
			"3600 03.02.07 02:00:00 11.01.07 02:00:00", "-5", -5 * 3600, true},
		{"IST-5:30", "IST-5:30", "", "+5:30", 19800, true},
		{"<+0330>-3:30", "<+0330>-3:30", "", "+3:30", 12600, true},
		{"GMT0BST,M3.5.0/1,M10.5.0", "GMT0BST-1,M3.5.0/01:00:00,M10.5.0/02:00:00",
			"3600 03.05.07 01:00:00 10.05.07 02:00:00", "+0", 0, true},
		{"", "", "", "", 0, false},
		{"CET", "", "", "", 0, false},
		{"CET-1CEST,J60,J300", "", "", "", 0, false},
		{"CET-1CEST,M13.5.0,M10.5.0", "", "", "", 0, false},
	}
	for _, tt := range tests {
		z, err := parsePOSIX(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parsePOSIX(%q) error %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		if z.POSIX != tt.posix || z.SnomDST() != tt.snom || z.YealinkZone() != tt.yealink || z.Offset != tt.offset {
			t.Errorf("parsePOSIX(%q) = %q snom %q yealink %q offset %d", tt.in, z.POSIX, z.SnomDST(), z.YealinkZone(), z.Offset)
		}
	}
}

func TestLookupZone(t *testing.T) {
	if z, err := lookupZone("Europe/Amsterdam"); err != nil || z.DST == nil || z.Offset != 3600 {
		t.Fatalf("Europe/Amsterdam: %+v %v", z, err)
	}
	if z, err := lookupZone("Not/AZone"); err == nil || z.POSIX != "UTC0" {
		t.Fatalf("unknown zone: %+v %v", z, err)
	}
	if z, err := lookupZone(""); err != nil || z.POSIX != "UTC0" {
		t.Fatalf("empty zone: %+v %v", z, err)
	}
	// From the host's tzdata when present.
	if z, err := lookupZone("America/Sao_Paulo"); err == nil && z.Offset != -3*3600 {
		t.Fatalf("America/Sao_Paulo: %+v", z)
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		path, vendor, mac, token string
		ok                       bool
	}{
		{"/provision/000413A1B2C3.xml", "snom", "000413a1b2c3", "", true},
		{"/provision/000413a1b2c3.cfg", "yealink", "000413a1b2c3", "", true},
		{"/provision/cfg000413a1b2c3.xml", "grandstream", "000413a1b2c3", "", true},
		{"/provision/t/abcdefghijklmnopqrstuvwxyz012345/000413a1b2c3.cfg", "yealink", "000413a1b2c3", "abcdefghijklmnopqrstuvwxyz012345", true},
		{"/provision/t/short/000413a1b2c3.cfg", "", "", "", false},
		{"/provision/y000000000044.cfg", "yealink", "y00000000004", "", false},
		{"/provision/000413a1b2c.xml", "", "", "", false},
		{"/provision/../000413a1b2c3.xml", "", "", "", false},
		{"/provision/snomD785.htm", "", "", "", false},
	}
	for _, tt := range tests {
		fr, ok := parsePath(tt.path)
		if ok != tt.ok || ok && (fr.vendor != tt.vendor || fr.mac != tt.mac || fr.token != tt.token) {
			t.Errorf("parsePath(%q) = %+v, %v", tt.path, fr, ok)
		}
	}
}
