package object_test

import (
	"fmt"
	"strings"

	"github.com/cairnkv/cairn/node/object"
)

func Example() {
	bind := []byte("default/users/alice") // the key's storage bytes
	put := func(o *object.Object, header string, v string, via object.Actor) *object.Object {
		ctx, err := object.DecodeContext(header, bind)
		if err != nil {
			panic(err)
		}
		return o.Update(ctx, object.Content{Value: []byte(v), ContentType: "text/plain"}, via)
	}

	o := put(object.New(), "", "v1", "node1/0")
	read := o.Context().Encode(bind) // X-Riak-Vclock of a read

	// Two clients write with the same context through the same vnode:
	// siblings, nothing lost.
	o = put(o, read, "v2", "node1/0")
	o = put(o, read, "v3", "node1/0")
	printValues(o)

	// A write with the context of a read of both resolves them.
	o = put(o, o.Context().Encode(bind), "v4", "node2/16")
	printValues(o)

	// A delete is a write of a tombstone.
	o = o.Update(o.Context(), object.Content{Deleted: true}, "node1/0")
	fmt.Println(o.IsTombstone(), o.Context())
	// Output:
	// v2 v3
	// v4
	// true {node1/0:4 node2/16:1}
}

func printValues(o *object.Object) {
	var vs []string
	for _, c := range o.Values() {
		vs = append(vs, string(c.Value))
	}
	fmt.Println(strings.Join(vs, " "))
}
