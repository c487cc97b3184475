package clustertls

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// File names in a credentials directory, as cairnctl tls writes them.
const (
	CACertFile = "ca.pem"
	CAKeyFile  = "ca-key.pem"
)

// NodeCertFile and NodeKeyFile name a node's certificate and key files.
func NodeCertFile(name string) string { return name + ".pem" }
func NodeKeyFile(name string) string  { return name + "-key.pem" }

// Paths returns the Files of node name in dir.
func Paths(dir, name string) Files {
	return Files{
		CA:   filepath.Join(dir, CACertFile),
		Cert: filepath.Join(dir, NodeCertFile(name)),
		Key:  filepath.Join(dir, NodeKeyFile(name)),
	}
}

// WriteFiles writes ca.pem and ca-key.pem (mode 0600) into dir, creating
// it (mode 0700) if needed. It never overwrites: a CA replaced by mistake
// would lock every node issued by the old one out of the cluster.
func (ca *CA) WriteFiles(dir string) error {
	return writeAll(dir, []file{
		{CACertFile, ca.CertPEM, 0o644},
		{CAKeyFile, ca.KeyPEM, 0o600},
	})
}

// WriteFiles writes <name>.pem and <name>-key.pem (mode 0600) into dir,
// never overwriting.
func (nc *NodeCert) WriteFiles(dir string) error {
	return writeAll(dir, []file{
		{NodeCertFile(nc.Name), nc.CertPEM, 0o644},
		{NodeKeyFile(nc.Name), nc.KeyPEM, 0o600},
	})
}

type file struct {
	name string
	data []byte
	mode os.FileMode
}

func writeAll(dir string, files []file) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("clustertls: %w", err)
	}
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(dir, f.name)); err == nil {
			return fmt.Errorf("clustertls: %s already exists: %w", filepath.Join(dir, f.name), fs.ErrExist)
		}
	}
	for _, f := range files {
		if err := writeNew(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// writeNew creates path with mode (O_EXCL: an existing file is an error)
// and syncs it.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("clustertls: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("clustertls: write %s: %w", path, err)
	}
	return nil
}

// LoadCA reads ca.pem and ca-key.pem from dir, to issue node
// certificates.
func LoadCA(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("clustertls: %w (create a CA with cairnctl tls init)", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("clustertls: %w", err)
	}
	der, err := onePEM(certPEM, "CERTIFICATE")
	if err != nil {
		return nil, fmt.Errorf("clustertls: %s: %w", CACertFile, err)
	}
	keyDER, err := onePEM(keyPEM, "PRIVATE KEY")
	if err != nil {
		return nil, fmt.Errorf("clustertls: %s: %w", CAKeyFile, err)
	}
	k, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, fmt.Errorf("clustertls: %s: %w", CAKeyFile, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("clustertls: %s: not an ECDSA key", CAKeyFile)
	}
	ca, err := newCA(der, key)
	if err != nil {
		return nil, err
	}
	if !ca.Cert.IsCA || !key.PublicKey.Equal(ca.Cert.PublicKey) {
		return nil, fmt.Errorf("clustertls: %s and %s are not a CA and its key", CACertFile, CAKeyFile)
	}
	return ca, nil
}

// onePEM returns the bytes of the first PEM block of type typ in b.
func onePEM(b []byte, typ string) ([]byte, error) {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, errors.New("no " + typ + " PEM block")
		}
		if blk.Type == typ {
			return blk.Bytes, nil
		}
	}
}

// Generate makes a new CA in dir and a node certificate for each name,
// with default validities and no DNS or IP SANs: a test or demo
// cluster's credentials in one call. Load(Paths(dir, name)) reads them.
func Generate(dir string, names ...string) error {
	now := time.Now()
	ca, err := NewCA("cairn cluster CA", DefaultCAValidity, now)
	if err != nil {
		return err
	}
	if err := ca.WriteFiles(dir); err != nil {
		return err
	}
	for _, name := range names {
		nc, err := ca.Issue(NodeRequest{Name: name}, now)
		if err != nil {
			return err
		}
		if err := nc.WriteFiles(dir); err != nil {
			return err
		}
	}
	return nil
}
