package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/node"
)

// TestListKeysStream: keys=stream sends one chunked {"keys":[…]} per batch.
func TestListKeysStream(t *testing.T) {
	srv, env := newTestServer(t)
	var want []string
	for i := range 7 {
		k := fmt.Sprintf("k%d", i)
		want = append(want, k)
		put(t, srv, "/buckets/b/keys/"+k, "v", "")
	}
	r := must(t, 200, srv, "GET", "/buckets/b/keys?keys=stream", "")
	if !slices.Contains(r.te, "chunked") {
		t.Errorf("stream not chunked: transfer encodings %v", r.te)
	}
	dec := json.NewDecoder(strings.NewReader(r.body))
	var got []string
	var sizes []int
	for {
		var batch struct{ Keys []string }
		if err := dec.Decode(&batch); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding %q: %v", r.body, err)
		}
		sizes = append(sizes, len(batch.Keys))
		got = append(got, batch.Keys...)
	}
	// Keys come in storage order across partitions, not sorted (as Riak's).
	slices.Sort(got)
	if !slices.Equal(got, want) || !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("streamed %v in batches %v (batch size %d)", got, sizes, env.cfg.ListBatchSize)
	}

	full := must(t, 200, srv, "GET", "/buckets/b/keys?keys=true", "")
	var all struct{ Keys []string }
	err := json.Unmarshal([]byte(full.body), &all)
	slices.Sort(all.Keys)
	if err != nil || !slices.Equal(all.Keys, want) {
		t.Errorf("keys=true: %s (%v)", full.body, err)
	}

	if r := must(t, 200, srv, "GET", "/buckets/empty/keys?keys=stream", ""); r.body != `{"keys":[]}` {
		t.Errorf("empty stream %q", r.body)
	}
	if r := must(t, 200, srv, "GET", "/buckets?buckets=stream", ""); r.body != `{"buckets":["b"]}` {
		t.Errorf("buckets stream %q", r.body)
	}
	must(t, 404, srv, "GET", "/types/nope/buckets?buckets=true", "")
	must(t, 404, srv, "GET", "/types/nope/buckets/b/keys?keys=stream", "")
}

// TestListKeysStreamFailure: an error before the first batch gets its
// status; one after it breaks the connection, so the client cannot take a
// partial listing for a whole one.
func TestListKeysStreamFailure(t *testing.T) {
	srv, env := newTestServer(t)
	for i := range 7 {
		put(t, srv, fmt.Sprintf("/buckets/b/keys/k%d", i), "v", "")
	}
	env.kv.mu.Lock()
	env.kv.listErrAfter = 2
	env.kv.mu.Unlock()
	must(t, 503, srv, "GET", "/buckets/b/keys?keys=stream", "")
	must(t, 503, srv, "GET", "/buckets/b/keys?keys=true", "")

	env.kv.mu.Lock()
	env.kv.listErrAfter = 4
	env.kv.mu.Unlock()
	res, err := srv.Client().Get(srv.URL + "/buckets/b/keys?keys=stream")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if _, err := io.ReadAll(res.Body); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("a failed stream ended cleanly: %v", err)
	}
	if !strings.Contains(env.logs.String(), "streamed listing failed") {
		t.Error("stream failure not logged")
	}
	env.kv.fail("ListKeys", fmt.Errorf("%w: 0 of 1", node.ErrQuorumNotMet))
	must(t, http.StatusServiceUnavailable, srv, "GET", "/buckets/b/keys?keys=stream", "")
}
