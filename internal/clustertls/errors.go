package clustertls

import "errors"

// Errors returned by Load and by peer verification; test with errors.Is.
var (
	// ErrFiles: the CA, certificate and key files were not given all
	// three, or one of them cannot be read or parsed.
	ErrFiles = errors.New("clustertls: bad credential files")
	// ErrNotNode: the peer's certificate chains to the cluster CA but does
	// not carry a cairn://node/<name> URI SAN.
	ErrNotNode = errors.New("clustertls: certificate is not a cairn node certificate")
	// ErrNoCertificate: the peer presented no certificate.
	ErrNoCertificate = errors.New("clustertls: peer presented no certificate")
)
