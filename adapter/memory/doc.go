// Package memory holds in-process implementations of the ports: fakes for
// unit tests and adapters for single-node use. Each passes the same contract
// suite (port/porttest) as its real counterpart, which is why tests may trust
// it. Time comes from an injected port.Clock; Clock here is the settable fake
// every test in the project uses.
package memory
