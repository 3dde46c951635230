package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

type speedDialsData struct {
	User *hotdesk.User
	Form *form
}

func (d *speedDialsData) title() string { return "Speed dials of " + d.User.Extension }

// speedDialsPage edits a user's speed dials (issue 17 item 13): one
// "label = number" per line; they follow the user to any desk.
func (c *Console) speedDialsPage(w http.ResponseWriter, r *http.Request) error {
	u, err := c.store.FindUser(r.Context(), r.PathValue("ext"))
	if err != nil {
		return err
	}
	var lines []string
	for _, sd := range u.SpeedDials {
		if sd.Label == "" {
			lines = append(lines, sd.Number)
		} else {
			lines = append(lines, sd.Label+" = "+sd.Number)
		}
	}
	c.render(w, r, http.StatusOK, "speeddials", &speedDialsData{User: u, Form: newForm(url.Values{"dials": {strings.Join(lines, "\n")}})})
	return nil
}

// parseSpeedDials reads "label = number" lines; a line with a number only
// has no label.
func parseSpeedDials(text string) ([]hotdesk.SpeedDial, error) {
	out := []hotdesk.SpeedDial{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		label, number, ok := strings.Cut(line, "=")
		if !ok {
			label, number = "", line
		}
		label, number = strings.TrimSpace(label), strings.TrimSpace(number)
		if number == "" {
			return nil, hotdesk.Invalidf("dials", "Line %d has no number: write label = number.", i+1)
		}
		out = append(out, hotdesk.SpeedDial{Label: label, Number: number})
	}
	return out, nil
}

func (c *Console) speedDialsSave(w http.ResponseWriter, r *http.Request) error {
	ext := r.PathValue("ext")
	f := newForm(r.PostForm)
	sds, err := parseSpeedDials(f.Get("dials"))
	if err == nil {
		_, err = c.admin.UpdateUser(r.Context(), source(r), ext, admin.UserInput{SpeedDials: &sds})
	}
	if err != nil {
		if !f.ApplyAll(err, func(string) string { return "dials" }) {
			return err
		}
		u, err := c.store.FindUser(r.Context(), ext)
		return c.show(w, r, http.StatusBadRequest, "speeddials", &speedDialsData{User: u, Form: f}, err)
	}
	return redirect(w, r, "/users/"+url.PathEscape(ext)+"/speed-dials?flash="+url.QueryEscape(fmt.Sprintf("Saved %d speed dials.", len(sds))))
}
