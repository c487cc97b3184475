// Package clustertls holds the credentials that cluster traffic (internal
// RPC and Raft) is authenticated with: mutual TLS under a cluster CA.
//
// Every node holds the cluster CA's certificate and a node certificate
// with its key, signed by that CA. Both ends of every connection present
// their node certificate and verify the other's, so a process without a
// certificate from the cluster CA gets no answer from a node and cannot
// make a node talk to it.
//
// What is verified, on both ends, for every connection:
//
//   - TLS 1.3 or later.
//   - The peer's certificate chains to the cluster CA (and only to it: the
//     system roots are never consulted), is within its validity period,
//     and allows the use it is put to (ExtKeyUsage ServerAuth for the
//     accepting side, ClientAuth for the dialling side; node certificates
//     carry both).
//   - The peer's certificate carries a URI SAN cairn://node/<name>
//     (NodeURI). That marks a certificate issued for a cairn node: a CA an
//     operator already runs for other services may then be the cluster CA
//     without every certificate it ever signed opening the cluster.
//
// Host names and IP addresses are not matched. Nodes dial each other by
// whatever address they advertise (loopback in tests, container or pod
// IPs that change on every restart), so binding certificates to addresses
// would make re-addressing a node a certificate change and buy nothing:
// the CA, not the address, says who belongs to the cluster. This is
// Consul's and Nomad's choice for their internal RPC as well. The DNS and
// IP SANs Issue writes are there for other tools.
//
// Generating a CA and node certificates for a demo or test cluster
// (cairnctl tls init|issue does this):
//
//	ca, _ := clustertls.NewCA("cairn demo CA", 5*365*24*time.Hour, time.Now())
//	_ = ca.WriteFiles(dir)                       // ca.pem, ca-key.pem
//	nc, _ := ca.Issue(clustertls.NodeRequest{Name: "n1", IPs: ips}, time.Now())
//	_ = nc.WriteFiles(dir)                       // n1.pem, n1-key.pem
//
// Using them:
//
//	creds, err := clustertls.Load(clustertls.Files{CA: "ca.pem", Cert: "n1.pem", Key: "n1-key.pem"})
//	srv := creds.ServerConfig() // for listeners
//	cli := creds.ClientConfig() // for dialling
//
// Certificates are read once, by Load: replacing them takes a restart.
package clustertls
