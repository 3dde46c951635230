package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// voicemailOut is a message as the API lists it; its audio is served
// apart (GET …/voicemail/{id}).
type voicemailOut struct {
	ID         int64     `json:"id"`
	Caller     string    `json:"caller"`
	CallerName string    `json:"caller_name"`
	ReceivedAt time.Time `json:"received_at"`
	DurationMS int       `json:"duration_ms"`
	New        bool      `json:"new"`
}

func voicemailJSON(v *hotdesk.Voicemail) voicemailOut {
	return voicemailOut{ID: v.ID, Caller: v.Caller, CallerName: v.CallerName, ReceivedAt: v.ReceivedAt,
		DurationMS: v.DurationMS, New: v.New}
}

// voicemailID reads the {id} path value: a positive integer.
func voicemailID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, hotdesk.Invalidf("id", "The message id must be a positive number.")
	}
	return id, nil
}

func (a *API) listVoicemail(w http.ResponseWriter, r *http.Request) error {
	vs, err := a.admin.ListVoicemail(r.Context(), r.PathValue("ext"))
	if err != nil {
		return err
	}
	out := make([]voicemailOut, len(vs))
	for i, v := range vs {
		out[i] = voicemailJSON(v)
	}
	setTotal(w, len(out))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getVoicemail serves the message's WAV file. http.ServeContent answers
// Range requests (206), so a browser's <audio> element can seek, and
// conditional ones.
func (a *API) getVoicemail(w http.ResponseWriter, r *http.Request) error {
	id, err := voicemailID(r)
	if err != nil {
		return err
	}
	v, wav, err := a.admin.Voicemail(r.Context(), r.PathValue("ext"), id)
	if err != nil {
		return err
	}
	admin.ServeWAV(w, r, v, wav)
	return nil
}

func (a *API) patchVoicemail(w http.ResponseWriter, r *http.Request) error {
	id, err := voicemailID(r)
	if err != nil {
		return err
	}
	var in admin.VoicemailInput
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	v, err := a.admin.UpdateVoicemail(r.Context(), Source, r.PathValue("ext"), id, in)
	return writeOr(w, http.StatusOK, voicemailJSON, v, err)
}

func (a *API) deleteVoicemail(w http.ResponseWriter, r *http.Request) error {
	id, err := voicemailID(r)
	if err != nil {
		return err
	}
	return noContent(w, a.admin.DeleteVoicemail(r.Context(), Source, r.PathValue("ext"), id))
}
