package admin

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// errNoSites is returned when the Service was built without Options.Sites.
var errNoSites = hotdesk.Errorf(hotdesk.EUNAVAILABLE, "Sites are not available.")

// Sites is the sites and emergency part of the Service that the API and
// the console call; both declare it in their Admin interface.
type Sites interface {
	ListSites(ctx context.Context) ([]*hotdesk.Site, error)
	FindSite(ctx context.Context, id int64) (*hotdesk.Site, error)
	CreateSite(ctx context.Context, source string, site hotdesk.Site) (*hotdesk.Site, error)
	UpdateSite(ctx context.Context, source string, id int64, site hotdesk.Site) (*hotdesk.Site, error)
	DeleteSite(ctx context.Context, source string, id int64) error
	EmergencyCalls(ctx context.Context, f hotdesk.EmergencyCallFilter) ([]*hotdesk.EmergencyCall, error)
	AckEmergency(ctx context.Context, source string, id int64, by, via string) (*hotdesk.EmergencyCall, error)
}

// ListSites returns every site by name.
func (s *Service) ListSites(ctx context.Context) ([]*hotdesk.Site, error) {
	if s.sites == nil {
		return nil, errNoSites
	}
	return s.sites.ListSites(ctx)
}

// FindSite returns a site or ENOTFOUND.
func (s *Service) FindSite(ctx context.Context, id int64) (*hotdesk.Site, error) {
	if s.sites == nil {
		return nil, errNoSites
	}
	return s.sites.FindSite(ctx, id)
}

// CreateSite validates and stores a site (every bad field named).
func (s *Service) CreateSite(ctx context.Context, source string, site hotdesk.Site) (*hotdesk.Site, error) {
	if s.sites == nil {
		return nil, errNoSites
	}
	site.ID = 0
	if err := s.checkSite(ctx, &site); err != nil {
		return nil, err
	}
	if err := s.sites.CreateSite(ctx, &site); err != nil {
		return nil, err
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSiteChanged, Reason: "created", Detail: siteDetail(&site)})
	return &site, nil
}

// UpdateSite validates and rewrites site id.
func (s *Service) UpdateSite(ctx context.Context, source string, id int64, site hotdesk.Site) (*hotdesk.Site, error) {
	if s.sites == nil {
		return nil, errNoSites
	}
	site.ID = id
	if err := s.checkSite(ctx, &site); err != nil {
		return nil, err
	}
	if err := s.sites.UpdateSite(ctx, &site); err != nil {
		return nil, err
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSiteChanged, Reason: "updated", Detail: siteDetail(&site)})
	return s.sites.FindSite(ctx, id)
}

// DeleteSite deletes site id; its phones belong to no site after.
func (s *Service) DeleteSite(ctx context.Context, source string, id int64) error {
	if s.sites == nil {
		return errNoSites
	}
	site, err := s.sites.FindSite(ctx, id)
	if err != nil {
		return err
	}
	if err := s.sites.DeleteSite(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSiteChanged, Reason: "deleted", Detail: siteDetail(site)})
	return nil
}

func siteDetail(s *hotdesk.Site) string {
	return fmt.Sprintf("site %d %q, networks %s, trunk %q, callback %s, %d phones", s.ID, s.Name,
		strings.Join(s.Networks, " "), s.Trunk, s.Callback, len(s.Devices))
}

// checkSite trims and validates site: a name, a civic address as a
// device's, networks as CIDR prefixes, a trunk the settings name, an E.164
// callback.
func (s *Service) checkSite(ctx context.Context, site *hotdesk.Site) error {
	trim(&site.Name, &site.Trunk, &site.Callback)
	l := &site.Location
	l.Country = strings.ToUpper(strings.TrimSpace(l.Country))
	trim(&l.Text, &l.A1, &l.A3, &l.Street, &l.HouseNo, &l.Postcode, &l.Building, &l.Floor, &l.Room, &l.Seat)
	errs := []error{validate.Name("name", site.Name, true), validate.MaxLen("name", site.Name, 100)}
	errs = append(errs, checkLocation(site.Location)...)
	for i, n := range site.Networks {
		n = strings.TrimSpace(n)
		site.Networks[i] = n
		if _, p, err := net.ParseCIDR(n); err != nil {
			errs = append(errs, hotdesk.Invalidf("networks", "Network %q is not a CIDR prefix like 10.1.0.0/16.", n))
		} else {
			site.Networks[i] = p.String()
		}
	}
	if site.Trunk != "" {
		st, err := s.store.GetSettings(ctx)
		if err != nil {
			return fmt.Errorf("read settings: %w", err)
		}
		if _, ok := st.TrunkNamed(site.Trunk); !ok {
			errs = append(errs, hotdesk.Invalidf("trunk", "No trunk is named %q in the settings (empty = the default trunk).", site.Trunk))
		}
	}
	if site.Callback != "" {
		errs = append(errs, validate.E164("callback", site.Callback))
	}
	for i, d := range site.Devices {
		site.Devices[i] = strings.TrimSpace(d)
	}
	if site.Networks == nil {
		site.Networks = []string{}
	}
	return collect(errs...)
}

// checkEmergencySettings validates the trunks list and the emergency
// alert settings of issue 16, naming fields by JSON path.
func checkEmergencySettings(st *hotdesk.Settings) []error {
	var errs []error
	seen := map[string]bool{}
	for i := range st.Trunks {
		t := &st.Trunks[i]
		trim(&t.Name, &t.Proxy)
		prefix := fmt.Sprintf("trunks.%d.", i)
		if t.Name == "" {
			errs = append(errs, hotdesk.Invalidf(prefix+"name", "Every further trunk needs a name."))
		} else if seen[t.Name] {
			errs = append(errs, hotdesk.Invalidf(prefix+"name", "Trunk name %q is used twice.", t.Name))
		}
		seen[t.Name] = true
		errs = append(errs, validate.Trunk(prefix, *t)...)
	}
	e := &st.EmergencyAlerts
	for _, l := range []struct {
		field string
		exts  []string
	}{{"emergency.alert_extensions", e.AlertExtensions}, {"emergency.escalate_extensions", e.EscalateExtensions}} {
		for _, x := range l.exts {
			errs = append(errs, validate.Extension(l.field, x))
		}
	}
	for _, m := range e.AlertEmails {
		errs = append(errs, validate.Email("emergency.alert_emails", m))
	}
	if e.EscalateMinutes < 0 || e.EscalateMinutes > 60 {
		errs = append(errs, hotdesk.Invalidf("emergency.escalate_minutes", "Escalation is after 1 to 60 minutes (0 = the default 3)."))
	}
	if e.CallbackMinutes < 0 || e.CallbackMinutes > 24*60 {
		errs = append(errs, hotdesk.Invalidf("emergency.callback_minutes", "The callback window is 1 to 1440 minutes (0 = the default 60)."))
	}
	if e.TestNumber != "" {
		if err := validate.Emergency("emergency.test_number", []string{e.TestNumber}); err != nil {
			errs = append(errs, hotdesk.Invalidf("emergency.test_number", "The test number must be 1 to 6 digits."))
		}
		for _, n := range st.Emergency {
			if n == e.TestNumber {
				errs = append(errs, hotdesk.Invalidf("emergency.test_number", "The test number must not be an emergency number."))
			}
		}
	}
	return errs
}

// SiteStore is the store of sites and emergency call records.
type SiteStore interface {
	hotdesk.SiteStore
	FindEmergencyCalls(ctx context.Context, f hotdesk.EmergencyCallFilter) ([]*hotdesk.EmergencyCall, error)
	AckEmergencyCall(ctx context.Context, id int64, by, via string, at time.Time) (*hotdesk.EmergencyCall, bool, error)
}

// EmergencyCalls lists emergency call records, newest first.
func (s *Service) EmergencyCalls(ctx context.Context, f hotdesk.EmergencyCallFilter) ([]*hotdesk.EmergencyCall, error) {
	if s.sites == nil {
		return nil, errNoSites
	}
	return s.sites.FindEmergencyCalls(ctx, f)
}

// AckEmergency records who acknowledged the on-site alert of emergency
// call id, how (via: "console", "api" or "phone") and when; the first
// acknowledgement is audited (emergency_ack) and published, which stops
// the alert calls and clears the console banner. A later one changes
// nothing and is not audited again.
func (s *Service) AckEmergency(ctx context.Context, source string, id int64, by, via string) (*hotdesk.EmergencyCall, error) {
	if s.sites == nil {
		return nil, errNoSites
	}
	at := s.now()
	c, first, err := s.sites.AckEmergencyCall(ctx, id, by, via, at)
	if err != nil {
		return nil, err
	}
	if first {
		s.audit(ctx, source, &hotdesk.AuditEvent{Time: at, Kind: hotdesk.KindEmergencyAck, Device: c.Device, Extension: c.Extension,
			Reason: via, Detail: hotdesk.AckDetail(c.ID, by, via)})
	}
	return c, nil
}
