// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) on
// incoming HTTP requests, so that unmodified AWS SDK clients can
// authenticate to Carillon exactly as they would to the Amazon Chime SDK
// endpoints.
//
// It handles both forms a client can use:
//
//   - header signing (an Authorization header, as every SDK sends on REST
//     calls), see [Verifier.VerifyRequest];
//   - query signing (a presigned URL, as amazon-chime-sdk-js and the
//     mobile SDKs build for the messaging websocket), see
//     [Verifier.VerifyPresigned].
//
// The package is hand-written because no maintained Go library verifies
// SigV4 for non-S3 services: aws-sdk-go-v2 only signs, and the S3-oriented
// verifiers apply S3's canonical-URI rule (escape once) instead of the rule
// every other service uses (escape the already-escaped path again).
//
// Verification follows what AWS's JSON front door does, including its
// error type names and messages, because SDKs surface those to
// applications verbatim. Where the SDK signers themselves disagree on an
// edge case (path dot-segment removal, tabs inside header values, query
// strings that are not RFC 3986 encoded) every canonical form a real
// signer can produce is accepted; each form is a deterministic function of
// the bytes the client sent, so this widens compatibility without letting
// a request verify under a signature made for different content.
package sigv4
