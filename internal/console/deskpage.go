package console

import (
	"net/url"
	"strconv"
	"strings"
)

// desksPerPage is how many desks the desks page lists at once: an office
// of 1,000+ desks pages and searches instead of rendering every row on
// each live update.
const desksPerPage = 100

// deskPage is the desks page's search and paging.
type deskPage struct {
	Q       string // case-insensitive substring of id, label, location, extension or name
	Offset  int
	Matched int // desks passing the filters, on all pages
	First   int // 1-based number of the first row shown
	Last    int
	pager
}

func newDeskPage(q url.Values) deskPage {
	p := deskPage{Q: strings.TrimSpace(q.Get("q"))}
	p.Offset = offsetParam(q)
	return p
}

// query is the search and offset as query parameters ("&q=…&offset=…"),
// each only when set (the address bar of an unsearched page stays as it was).
func (p deskPage) query() string {
	s := ""
	if p.Q != "" {
		s += "&q=" + urlq(p.Q)
	}
	if p.Offset > 0 {
		s += "&offset=" + strconv.Itoa(p.Offset)
	}
	return s
}

// matches reports whether row passes the search.
func (p deskPage) matches(row deskRow) bool {
	if p.Q == "" {
		return true
	}
	q := strings.ToLower(p.Q)
	d := row.Device
	for _, s := range []string{d.ID, d.Label, d.Location.Text, row.UserName} {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return row.Login != nil && strings.Contains(row.Login.Extension, q)
}

// page keeps the rows of the current page and sets the counts and links;
// base is the page's address with the other filters. An offset past the
// end shows the last page.
func (p *deskPage) page(rows []deskRow, base string) []deskRow {
	p.Matched = len(rows)
	if p.Offset >= len(rows) {
		p.Offset = max(0, (len(rows)-1)/desksPerPage*desksPerPage)
	}
	end := min(p.Offset+desksPerPage, len(rows))
	p.pager = pageLinks(p.Offset, desksPerPage, len(rows), func(off int) string { return base + deskPage{Q: p.Q, Offset: off}.query() })
	if len(rows) > 0 {
		p.First, p.Last = p.Offset+1, end
	}
	return rows[p.Offset:end]
}

// pager is a list page's links to the neighbouring pages, "" at the ends.
type pager struct{ Prev, Next string }

// pageLinks is the pager of a list of total rows shown size at a time from
// off; link is the address that shows the rows from an offset.
func pageLinks(off, size, total int, link func(off int) string) (p pager) {
	if off > 0 {
		p.Prev = link(max(off-size, 0))
	}
	if off+size < total {
		p.Next = link(off + size)
	}
	return p
}

// offsetParam is a list page's offset query parameter (0 when missing or
// bad).
func offsetParam(q url.Values) int {
	off, _ := strconv.Atoi(q.Get("offset"))
	return max(off, 0)
}
