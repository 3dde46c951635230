package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// voicemailRoutes adds the user page's mailbox: the audio its <audio>
// players load (with Range, so they can seek), mark heard/new and delete.
// Changes go through the admin service: audited as console:<admin> and
// published, so the user's message lamp follows.
func (c *Console) voicemailRoutes(mux *http.ServeMux) {
	mux.Handle("GET /users/{ext}/voicemail/{id}/audio", c.auth(admin.ByID("Message", c.voicemailAudio)))
	mux.Handle("POST /users/{ext}/voicemail/{id}", c.auth(admin.ByID("Message", c.voicemailMark)))
	mux.Handle("POST /users/{ext}/voicemail/{id}/delete", c.auth(admin.ByID("Message", c.voicemailDelete)))
}

func (c *Console) voicemailAudio(w http.ResponseWriter, r *http.Request, id int64) error {
	v, wav, err := c.admin.Voicemail(r.Context(), r.PathValue("ext"), id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	admin.ServeWAV(w, r, v, wav)
	return nil
}

// voicemailMark marks a message heard (new=0) or new again (new=1).
func (c *Console) voicemailMark(w http.ResponseWriter, r *http.Request, id int64) error {
	ext := r.PathValue("ext")
	isNew := r.PostForm.Get("new") == "1"
	if _, err := c.admin.UpdateVoicemail(r.Context(), source(r), ext, id, admin.VoicemailInput{New: &isNew}); err != nil {
		return err
	}
	msg := "Marked the message heard."
	if isNew {
		msg = "Marked the message new."
	}
	return redirect(w, r, "/users/"+ext+"?flash="+url.QueryEscape(msg)+"#voicemail")
}

func (c *Console) voicemailDelete(w http.ResponseWriter, r *http.Request, id int64) error {
	ext := r.PathValue("ext")
	if err := c.admin.DeleteVoicemail(r.Context(), source(r), ext, id); err != nil {
		return err
	}
	return redirect(w, r, "/users/"+ext+"?flash="+url.QueryEscape("Deleted the message.")+"#voicemail")
}

// mailbox lists ext's messages for the user page; a store without
// mailboxes shows none.
func (c *Console) mailbox(ctx context.Context, ext string) ([]*hotdesk.Voicemail, error) {
	vs, err := c.admin.ListVoicemail(ctx, ext)
	if hotdesk.ErrorCode(err) == hotdesk.EUNAVAILABLE {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list voicemail: %w", err)
	}
	return vs, nil
}

// waiting is how many new messages ext has, for the desks page's
// message-waiting badge; 0 when unknown (logged).
func (c *Console) waiting(ctx context.Context, ext string) int {
	m, ok := c.store.(admin.Mailbox)
	if !ok {
		return 0
	}
	n, _, err := m.VoicemailCounts(ctx, ext)
	if err != nil {
		c.log.Warn("console: voicemail counts", "extension", ext, "err", err)
	}
	return n
}

// duration shows a message length in ms as "0:07".
func duration(ms int) string {
	s := (ms + 500) / 1000
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
