package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// maxBody is the largest request body the API reads.
const maxBody = 1 << 20

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"Internal error."}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// readBody reads at most maxBody bytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, hotdesk.Invalidf("", "The request body is larger than 1 MiB.")
	} else if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// decode reads a JSON object into v, refusing unknown fields, trailing data
// and bodies over 1 MiB. An empty body is an error unless allowEmpty.
func decode(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) (empty bool, err error) {
	b, err := readBody(w, r)
	if err != nil {
		return false, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if allowEmpty {
			return true, nil
		}
		return false, hotdesk.Invalidf("", "The request body must be a JSON object.")
	}
	return false, decodeBytes(b, v)
}

func decodeBytes(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return hotdesk.Invalidf("", "The request body must hold one JSON object and nothing after it.")
	}
	return nil
}

// jsonError turns a decoding error into EINVALID naming the field.
func jsonError(err error) error {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &typ):
		f := jsonPath(typ.Field)
		if f == "" {
			return hotdesk.Invalidf("", "The request body must be a JSON object.")
		}
		return hotdesk.Invalidf(f, "%s must be a JSON %s.", f, jsonKind(typ.Type.Kind().String()))
	case errors.As(err, &syn):
		return hotdesk.Invalidf("", "The request body is not valid JSON (offset %d).", syn.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return hotdesk.Invalidf(f, "Unknown field %q.", f)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return hotdesk.Invalidf("", "The request body is not complete JSON.")
	}
	return hotdesk.Invalidf("", "The request body is not valid JSON.")
}

// jsonPath drops the Go names of embedded structs ("Settings.lang") from
// a decoding error's field path: every JSON name of the API is lower-case.
func jsonPath(p string) string {
	var keep []string
	for _, seg := range strings.Split(p, ".") {
		if seg != "" && !(seg[0] >= 'A' && seg[0] <= 'Z') {
			keep = append(keep, seg)
		}
	}
	return strings.Join(keep, ".")
}

func jsonKind(k string) string {
	switch k {
	case "bool":
		return "boolean"
	case "int", "int64", "int32", "float64":
		return "number"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return k
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, hotdesk.Invalidf(name, "%s must be a whole number from %d to %d.", name, lo, hi)
	}
	return n, nil
}

// paging reads offset and limit.
func paging(q url.Values, defLimit int) (offset, limit int, err error) {
	if offset, err = intParam(q, "offset", 0, 0, 1_000_000); err != nil {
		return 0, 0, err
	}
	if limit, err = intParam(q, "limit", defLimit, 1, 1000); err != nil {
		return 0, 0, err
	}
	return offset, limit, nil
}

// setTotal sets X-Total-Count.
func setTotal(w http.ResponseWriter, n int) {
	w.Header().Set("X-Total-Count", strconv.Itoa(n))
}

// orEmpty keeps JSON arrays from being null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// trim trims the given strings in place.
func trim(ps ...*string) {
	for _, p := range ps {
		if p != nil {
			*p = strings.TrimSpace(*p)
		}
	}
}

// boolParam reads an optional true/false query parameter.
func boolParam(q url.Values, name string) (bool, error) {
	switch strings.TrimSpace(q.Get(name)) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, hotdesk.Invalidf(name, "%s must be true or false.", name)
}

// noContent answers 204 unless err.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// created answers 201 with v and the new thing's location.
func created(w http.ResponseWriter, location string, v any) error {
	w.Header().Set("Location", location)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// identity is writeOr's out for a value written as it is.
func identity[T any](v T) T { return v }

// writeOr writes out(v) with status unless err.
func writeOr[T, O any](w http.ResponseWriter, status int, out func(T) O, v T, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, out(v))
	return nil
}
