package console

import (
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// mailFormValues puts the SMTP settings on the settings form; the password
// is never echoed (the form says whether one is set).
func mailFormValues(f *form, m hotdesk.MailSettings) {
	f.Values.Set("mail_enabled", onOff(m.Enabled))
	f.Values.Set("mail_host", m.Host)
	if m.Port > 0 {
		f.Values.Set("mail_port", strconv.Itoa(m.Port))
	}
	f.Values.Set("mail_starttls", onOff(m.StartTLS))
	f.Values.Set("mail_username", m.Username)
	f.Values.Set("mail_from", m.From)
}

// mailFromForm reads the SMTP settings; an empty password keeps the
// stored one, an empty port is the default and one that is not a number
// is out of range (named by validation).
func mailFromForm(f *form, cur hotdesk.MailSettings) hotdesk.MailSettings {
	m := hotdesk.MailSettings{Enabled: f.Checked("mail_enabled"), Host: strings.TrimSpace(f.Get("mail_host")),
		StartTLS: f.Checked("mail_starttls"), Username: strings.TrimSpace(f.Get("mail_username")),
		Password: f.Get("mail_password"), From: strings.TrimSpace(f.Get("mail_from")), Port: f.Int("mail_port", 0)}
	if m.Password == "" {
		m.Password = cur.Password
	}
	return m
}
