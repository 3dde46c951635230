package b2bua_test

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/b2bua"
)

func TestDialled(t *testing.T) {
	for in, want := range map[string]string{
		"202": "202", "202#": "202", "%2A35%2A201": "*35*201", "%2B4930123": "+4930123", "%2b1%2D2": "+12", "12%zz%2": "12%zz%2", "020-555 1234": "0205551234", "+31 (20) 555": "+3120555", "": "",
	} {
		if got := b2bua.Dialled(in); got != want {
			t.Errorf("Dialled(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNumberPlan(t *testing.T) {
	st := hotdesk.DefaultSettings() // NL: national 0, international 00, country 31
	tests := []struct {
		number    string
		ext       bool
		e164      string // "" = cannot place
		scope     string
		emergency bool
	}{
		{"202", true, "", hotdesk.OutboundNational, false},
		{"112", true, "", hotdesk.OutboundNational, true},
		{"911", true, "", hotdesk.OutboundNational, true},
		{"0205551234", false, "+31205551234", hotdesk.OutboundNational, false},
		{"0031205551234", false, "+31205551234", hotdesk.OutboundNational, false},
		{"+31205551234", false, "+31205551234", hotdesk.OutboundNational, false},
		{"31205551234", false, "+31205551234", hotdesk.OutboundNational, false},
		{"004930123456", false, "+4930123456", hotdesk.OutboundInternational, false},
		{"+4930123456", false, "+4930123456", hotdesk.OutboundInternational, false},
		{"1234567", false, "", hotdesk.OutboundNational, false},
		{"02", false, "", hotdesk.OutboundNational, false},
		{"+", false, "", hotdesk.OutboundNational, false},
		{"abc", false, "", hotdesk.OutboundNational, false},
	}
	for _, tt := range tests {
		if got := b2bua.IsExtensionLike(tt.number, st); got != tt.ext {
			t.Errorf("IsExtensionLike(%q) = %v", tt.number, got)
		}
		got, ok := b2bua.E164(tt.number, st)
		if got != tt.e164 || ok != (tt.e164 != "") {
			t.Errorf("E164(%q) = %q, %v; want %q", tt.number, got, ok, tt.e164)
		}
		if got := b2bua.Scope(tt.number, st); got != tt.scope {
			t.Errorf("Scope(%q) = %q, want %q", tt.number, got, tt.scope)
		}
		if got := b2bua.IsEmergency(tt.number, st); got != tt.emergency {
			t.Errorf("IsEmergency(%q) = %v", tt.number, got)
		}
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		perm, scope string
		want        bool
	}{
		{hotdesk.OutboundInternal, hotdesk.OutboundNational, false},
		{"", hotdesk.OutboundNational, false},
		{hotdesk.OutboundNational, hotdesk.OutboundNational, true},
		{hotdesk.OutboundNational, hotdesk.OutboundInternational, false},
		{hotdesk.OutboundInternational, hotdesk.OutboundInternational, true},
		{hotdesk.OutboundInternational, hotdesk.OutboundNational, true},
	}
	for _, tt := range tests {
		if got := b2bua.Allowed(tt.perm, tt.scope); got != tt.want {
			t.Errorf("Allowed(%q, %q) = %v", tt.perm, tt.scope, got)
		}
	}
}
