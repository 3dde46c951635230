package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
)

// siteIn is a site as POST and PUT read it (PUT replaces every field).
type siteIn struct {
	Name     string           `json:"name"`
	Location hotdesk.Location `json:"location"`
	Networks []string         `json:"networks"`
	Trunk    string           `json:"trunk"`
	Callback string           `json:"callback"`
	Devices  []string         `json:"devices"`
}

func (in siteIn) site() hotdesk.Site {
	return hotdesk.Site{Name: in.Name, Location: in.Location, Networks: splitList(in.Networks), Trunk: in.Trunk,
		Callback: in.Callback, Devices: splitList(in.Devices)}
}

func siteJSON(s *hotdesk.Site) *hotdesk.Site {
	s.Networks, s.Devices = orEmpty(s.Networks), orEmpty(s.Devices)
	return s
}

func (a *API) listSites(w http.ResponseWriter, r *http.Request) error {
	ss, err := a.admin.ListSites(r.Context())
	if err != nil {
		return fmt.Errorf("list sites: %w", err)
	}
	for _, s := range ss {
		siteJSON(s)
	}
	writeJSON(w, http.StatusOK, orEmpty(ss))
	return nil
}

func (a *API) createSite(w http.ResponseWriter, r *http.Request) error {
	var in siteIn
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	s, err := a.admin.CreateSite(r.Context(), Source, in.site())
	if err != nil {
		return err
	}
	return created(w, "/api/v1/sites/"+strconv.FormatInt(s.ID, 10), siteJSON(s))
}

func (a *API) getSite(w http.ResponseWriter, r *http.Request, id int64) error {
	s, err := a.admin.FindSite(r.Context(), id)
	return writeOr(w, http.StatusOK, siteJSON, s, err)
}

func (a *API) putSite(w http.ResponseWriter, r *http.Request, id int64) error {
	var in siteIn
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	s, err := a.admin.UpdateSite(r.Context(), Source, id, in.site())
	return writeOr(w, http.StatusOK, siteJSON, s, err)
}

func (a *API) deleteSite(w http.ResponseWriter, r *http.Request, id int64) error {
	return noContent(w, a.admin.DeleteSite(r.Context(), Source, id))
}

// listEmergencyCalls lists emergency call records, newest first:
// unacked=true only those nobody acknowledged, test=true|false only test
// or real calls, since=RFC 3339.
func (a *API) listEmergencyCalls(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f hotdesk.EmergencyCallFilter
	var err error
	if f.Limit, err = intParam(q, "limit", 100, 1, 1000); err != nil {
		return err
	}
	f.Device = q.Get("device")
	switch q.Get("unacked") {
	case "", "false":
	case "true":
		f.Unacked = true
	default:
		return hotdesk.Invalidf("unacked", "unacked must be true or false.")
	}
	switch v := q.Get("test"); v {
	case "":
	case "true", "false":
		b := v == "true"
		f.Test = &b
	default:
		return hotdesk.Invalidf("test", "test must be true or false.")
	}
	if v := q.Get("since"); v != "" {
		if f.Since, err = time.Parse(time.RFC3339, v); err != nil {
			return hotdesk.Invalidf("since", "since must be an RFC 3339 time like 2026-03-02T09:00:00Z.")
		}
	}
	cs, err := a.admin.EmergencyCalls(r.Context(), f)
	if err != nil {
		return fmt.Errorf("emergency calls: %w", err)
	}
	writeJSON(w, http.StatusOK, orEmpty(cs))
	return nil
}

// ackEmergencyCall acknowledges the on-site alert of an emergency call
// for the API ("by" is "api"); the first acknowledgement stands.
func (a *API) ackEmergencyCall(w http.ResponseWriter, r *http.Request, id int64) error {
	c, err := a.admin.AckEmergency(r.Context(), Source, id, Source, "api")
	return writeOr(w, http.StatusOK, identity, c, err)
}
