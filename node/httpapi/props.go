package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/cairnkv/cairn/node"
)

// propsBody is Riak's bucket-properties document, {"props":{…,"name":B}}.
type propsBody struct {
	Props bucketProps `json:"props"`
}

type bucketProps struct {
	node.Props
	Name string `json:"name"`
}

// getProps answers GET of a bucket's properties.
func (a *API) getProps(w http.ResponseWriter, r *http.Request, rt route) error {
	p, err := a.kv.BucketProps(r.Context(), rt.typ, rt.bucket)
	if err != nil {
		return err
	}
	writeJSON(w, a.log, propsBody{Props: bucketProps{Props: p, Name: rt.bucket}})
	return nil
}

// setProps answers PUT of {"props":{…}}: the fields present are merged
// into the bucket's properties by the node, which validates the result.
func (a *API) setProps(w http.ResponseWriter, r *http.Request, rt route) error {
	raw, err := a.readProps(w, r)
	if err != nil {
		return err
	}
	if _, err := a.kv.SetBucketProps(r.Context(), rt.typ, rt.bucket, raw); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readProps reads a {"props":{…}} body and returns the inner object.
func (a *API) readProps(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return nil, errStatus(http.StatusUnsupportedMediaType, "bucket properties must be sent as Content-Type: application/json, got %q", ct)
	}
	if r.ContentLength > a.cfg.MaxPropsSize {
		return nil, &http.MaxBytesError{Limit: a.cfg.MaxPropsSize}
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, a.cfg.MaxPropsSize)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, errStatus(http.StatusBadRequest, "reading the request body: %v", err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return nil, errStatus(http.StatusBadRequest, `malformed JSON: %v (want {"props":{...}})`, err)
	}
	raw, ok := doc["props"]
	if !ok {
		return nil, errStatus(http.StatusBadRequest, `missing "props": want {"props":{...}}`)
	}
	if raw = bytes.TrimSpace(raw); len(raw) == 0 || raw[0] != '{' {
		return nil, errStatus(http.StatusBadRequest, `"props" must be a JSON object: want {"props":{...}}`)
	}
	return raw, nil
}

// resetProps answers DELETE of a bucket's properties: back to its type's.
func (a *API) resetProps(w http.ResponseWriter, r *http.Request, rt route) error {
	if err := a.kv.ResetBucketProps(r.Context(), rt.typ, rt.bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// typePropsBody is Riak's bucket-type properties document, {"props":{…}}.
type typePropsBody struct {
	Props node.Props `json:"props"`
}

// getTypeProps answers GET of a bucket type's properties.
func (a *API) getTypeProps(w http.ResponseWriter, r *http.Request, rt route) error {
	p, err := a.kv.TypeProps(r.Context(), rt.typ)
	if err != nil {
		return err
	}
	writeJSON(w, a.log, typePropsBody{Props: p})
	return nil
}

// setTypeProps answers PUT of a bucket type's {"props":{…}}: the node
// merges the fields present through the metadata plane, which validates
// the result (and refuses a change of consistent, or of a consistent
// type's n_val).
func (a *API) setTypeProps(w http.ResponseWriter, r *http.Request, rt route) error {
	raw, err := a.readProps(w, r)
	if err != nil {
		return err
	}
	if _, err := a.kv.SetTypeProps(r.Context(), rt.typ, raw); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
