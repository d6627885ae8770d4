// Package carillon is the domain of the Carillon server: the resources of the
// Chime SDK Identity and Messaging services, the errors services report, ARNs,
// the clock, the caller's identity, and the interfaces between packages (the
// Store). It imports nothing of the project; every other package imports it.
//
// Each noun has one file with its types and the interface of its storage
// (appinstance.go and AppInstanceTx, channel.go and ChannelTx, …); store.go
// composes them into the transaction Tx.
//
// The wire (restjson), the rules (identity, messaging) and the storage
// (sqlite) are adapters around this package, in the layout described in
// docs/architecture.md.
package carillon
