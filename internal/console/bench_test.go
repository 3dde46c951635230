package console

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
)

// BenchmarkDesksTable renders the live desks fragment (what every open tab
// fetches after each login, logout or registration) for an office of 500
// hot desks with 400 people logged in, on the SQLite store.
func BenchmarkDesksTable(b *testing.B) {
	hs := newHarness(b)
	c := hs.signIn()
	ctx := context.Background()
	for i := range 500 {
		ext := fmt.Sprint(1000 + i)
		hs.addUser(&hotdesk.User{Extension: ext, Name: "User " + ext, Hotdesk: true, Outbound: hotdesk.OutboundNational})
		hs.addDevice(&hotdesk.Device{Label: "Desk " + ext, Model: hotdesk.ModelSnom, Mode: hotdesk.ModeHotdesk,
			Location: hotdesk.Location{Text: fmt.Sprintf("Floor %d", i/100)}})
		if i < 400 {
			if _, err := hs.desk.Login(ctx, desk.LoginRequest{Extension: ext, Device: fmt.Sprintf("HD%05d", i+1), Via: hotdesk.ViaAPI}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if w := c.get("/desks/table"); w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
