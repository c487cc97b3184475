package adminapi

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/cairnkv/cairn/antientropy"
)

// errNoAAE answers the anti-entropy endpoints of an API made without an
// AAE.
var errNoAAE = errStatus(http.StatusNotImplemented,
	"adminapi: this node's admin API does not report anti-entropy (it was started without an AAE)")

func (a *api) aaeStatus(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if a.aae == nil {
		return 0, nil, errNoAAE
	}
	st, err := a.aae.AAEStatus(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, normalizeAAE(st), nil
}

func (a *api) controlAAE(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if a.aae == nil {
		return 0, nil, errNoAAE
	}
	var c antientropy.Control
	if err := decode(r, &c, false); err != nil {
		return 0, nil, err
	}
	if c.Enabled == nil && c.Window == nil {
		return 0, nil, errStatus(http.StatusBadRequest,
			`adminapi: empty anti-entropy control: want {"enabled":true|false} and/or {"window":"always"|"HH:MM-HH:MM"}`)
	}
	st, err := a.aae.ControlAAE(r.Context(), c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, normalizeAAE(st), nil
}

// normalizeAAE sorts a status's partitions and each one's exchanges, and
// makes its empty lists [] rather than null, so that the answer is stable
// whatever the AAE does. st is the caller's (AAE's contract), so it is
// sorted in place.
func normalizeAAE(st antientropy.Status) antientropy.Status {
	st.Partitions = nonNil(st.Partitions)
	slices.SortStableFunc(st.Partitions, func(x, y antientropy.PartitionStatus) int {
		return cmp.Compare(x.Partition, y.Partition)
	})
	for i := range st.Partitions {
		ex := nonNil(st.Partitions[i].Exchanges)
		slices.SortStableFunc(ex, func(x, y antientropy.PeerStatus) int {
			return cmp.Or(cmp.Compare(x.Primary, y.Primary), cmp.Compare(x.N, y.N),
				strings.Compare(x.Peer, y.Peer), cmp.Compare(x.PeerPartition, y.PeerPartition))
		})
		st.Partitions[i].Exchanges = ex
	}
	return st
}
