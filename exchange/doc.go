// Package exchange carries official documents and data between the nodes
// of an e-government extranet: signed, paperless, and with proof of
// delivery.
//
// Every message has an [Envelope] (schema: [EnvelopeSchema], $id
// [EnvelopeSchemaID]) that says what it is ([Kind]: a document, a receipt,
// a recall or urge of a document not yet signed for, a data call or its
// answer), who sends it to whom (organs by 统一社会信用代码 and their nodes),
// which conversation it belongs to and which message it answers, when it
// was created and when it expires, and the media type, size and digest of
// the payload that travels beside it, so that a payload of any size can be
// streamed and checked without being held in memory. The sending node
// signs the envelope.
//
// [ParseEnvelope] reads an envelope strictly, validates it against the
// schema and checks what a schema cannot (check characters, time order,
// which kinds need replyTo or resource), reporting every problem with a
// JSON Pointer and a stable rule id as an [*EnvelopeError].
//
// [SignEnvelope] signs an envelope with the sending node's key (a detached
// JWS over the RFC 8785 canonical form of the envelope without its
// signature); [VerifyEnvelope] checks a received one against the
// directory: a known sender node, a valid signature made with exactly the
// certificate the directory registers for that node, not expired, and
// addressed to this node. Each refusal is a [*RefusalError] with a stable
// rule id for the negative receipt.
//
// # Transport
//
// A [Transport] is one node's HTTPS endpoint and client, over mutual TLS
// 1.3. A message is one POST to [MessagePath]: the envelope's JSON on one
// line, then the payload, streamed and checked against the envelope's size
// and digest. The receiving node checks that the TLS client certificate is
// the one the directory registers for the envelope's sender node, verifies
// the envelope, checks the grant, applies a per-organ rate limit, and hands
// the message to its [Receiver] (the durable inbox); it answers with its
// signed delivery receipt (送达回执), again for a retried duplicate. The
// sender pins the receiver's TLS certificate to the directory in the same
// way. The status codes are listed beside [Problem].
//
// A refusal is a [Problem] (application/problem+json) with the status and
// the rule. When the refusal is final and the node could name the message
// (the envelope parsed), the Problem also carries the node's signed
// negative receipt (拒收回执, a [SignedReceipt]): a receipt of status
// [ReceiptRefused] with the rule, the reason, the canonical digest of the
// envelope refused and, for a payload that did not match its envelope,
// the digest of the bytes received; nothing of the message is stored. The
// sender verifies it (signed by the recipient node as the directory
// registers it, for the message sent) and finds it on the [*SendError];
// one that does not verify is dropped. There is no receipt for a request
// that is not a message, for a refusal that a retry may overcome (409, 429,
// 5xx), or for a TLS client that is not the sender's registered node; an
// unknown sender gets one, within a rate limit shared by all unknown
// senders (see [Problem] for why).
//
// # Data sharing
//
// A provider publishes a data resource once ([Transport.Publish]) with a
// handler; the directory lists it and grants it to consumers. A consumer
// calls it by id ([Transport.Call]): the request and the response are
// signed envelopes, the provider's node checks the caller's grant before
// the handler runs, and a replayed request id is refused.
//
// # Reliability
//
// [Outbox.Send] signs a message, keeps its payload (checked against the
// envelope: up to [InlinePayloadMax] in the store itself, larger ones in
// the spool, streamed) and stores one entry per recipient; it returns
// once they are durable. While [Outbox.Run] runs, Send leases the entries
// to it and their delivery starts at once; otherwise, and for retries,
// the outbox claims due entries under a lease (FOR UPDATE SKIP LOCKED on
// PostgreSQL, so several gateway processes of one organ share a store and
// deliver each entry once). Up to OutboxConfig.Concurrency deliveries run
// at once, each over a kept-alive HTTP/1.1 connection to its peer. The
// outbox records the signed delivery receipt whole (envelope and payload,
// a [SignedReceipt]), or a retry with exponential backoff
// and jitter ([RetryPolicy]), or, after the last attempt or a permanent
// refusal, a dead letter that [Outbox.State] shows with its reason and,
// for a refusal that came with one, the recipient's verified negative
// receipt, which the audit log records too. The
// receiving side's [Inbox] keeps the payload durably (inline, or spooled
// and synced) before it acknowledges the message, and recognises a
// replayed message id: the same envelope again is a duplicate, answered
// with a receipt again and stored once, so that the receiving application
// sees each message once however often the sender retries or crashes;
// another envelope under a stored id is refused for good
// (exchange.refused.replayed-id). [SQLStore] keeps both on SQLite (the
// embedded default) or PostgreSQL; the writes of concurrent messages
// share commits (group commit), so that they share the cost of a sync to
// disk.
//
// Every message and receipt sent or received also goes, in the same
// transaction, into an append-only audit log whose entries are chained by
// their SHA-256 ([AuditEntry]); [VerifyAudit] (and egovkit audit verify)
// names the first edited, deleted, inserted or reordered entry.
//
// # The document lifecycle and the gateway
//
// A [Gateway] wires one node (from a [GatewayConfig], or from the JSON
// configuration file that egovkit gateway runs: [ReadGatewayFile] and
// [GatewayFile.Open]): the [DirectoryKeeper], the [Transport], the
// [Inbox] and [Outbox] on one [Store], and the business lifecycle of the
// documents it exchanges (公文签收流程), which the store keeps as a
// [DocumentState] per document and peer, every change in the same
// transaction as the message that carries it and as an entry of the
// audit log (direction [AuditState]).
//
// A document starts awaiting (待签收) on both sides. The recipient signs for
// it ([Gateway.SignFor], 签收, naming the [Person] who did) or returns it
// ([Gateway.Return], 退回, with the reason, which is required): either is
// final, and goes back to the sender as a signed receipt message through
// the outbox, whose payload is a [Receipt] (media type [ReceiptMediaType],
// schema [ReceiptSchema]: status signedFor or returned, the document's id
// and digest as received, when, by whom, why; the same schema covers the
// delivered and refused receipts of the transport). The sender may recall
// ([Gateway.Recall], 撤回) a document from every recipient still awaiting,
// and urge ([Gateway.Urge], 催办) them; both travel as messages whose
// payload is a [Notice] ([NoticeMediaType], [NoticeSchema]). A recipient
// that holds a recall refuses to sign for or return the document
// (exchange.lifecycle.recalled) and counts the urges it receives. Since
// the recipient refuses after the recall, a receipt that reaches the
// sender after its recall was made before the recall arrived, and counts.
// A receipt, recall or urge that names a document the node has not
// exchanged with its sender is refused with 409 (it may have overtaken the
// document, so the sender retries); one whose payload is invalid, or
// acknowledges other bytes than were sent, with 422.
//
// [Gateway.Sent] tells the sender, per recipient, whether its message is
// stored, delivered (with the signed delivery receipt), signed for and by
// whom, returned and why, recalled, or dead-lettered and why, with the
// recipient's negative receipt when it refused the message for good
// ([RecipientState.State]); [Gateway.Received] tells the recipient the
// state of a document it received, and the delivery of the receipt it
// sent back.
//
// # Confidentiality
//
// A classified document (docdoc classification set) travels encrypted to
// each recipient node, as a payload of media type [EncryptedMediaType]
// ([EncryptPayload], [Gateway.SendEncryptedFile]): one fresh content key
// per payload, wrapped for each recipient with the encryption key the
// directory lists for its node ([Node.EncryptionPublicKey]): X25519 with
// HKDF-SHA256 and ChaCha20-Poly1305 ([SuiteX25519]), or SM2 public-key
// encryption with SM4-GCM ([SuiteSM2]) for national-algorithm (国密)
// deployments. The content streams in authenticated chunks bound to the
// header, so a change, a dropped or reordered chunk, or a truncation fails
// to open (ErrEncryptedCorrupt). The envelope's digest is of the
// ciphertext, so relays and receipts never see the content; the recipient
// opens it with its [Decrypter] ([Gateway.OpenPayload]).
//
// # The directory
//
// The platform operator publishes a [Directory] (schema: [DirectorySchema]):
// the member organs, their nodes (endpoint, TLS certificate, signing
// certificate), the data resources each publishes, and the grants: which
// organ may call which resource ([Directory.MayCall]) and which organ may
// send which document types to whom ([Directory.MaySend]). Publishing a
// resource grants nothing by itself, as in X-Road. The operator seals each
// edition ([SealDirectory]); a node trusts only the operator identity it is
// configured with, never the one a directory names ([OpenDirectory]). A
// [DirectoryKeeper] refreshes the directory from a file or URL
// ([FileSource], [URLSource]), keeps working on the last good edition when
// a refresh fails, never goes back to an older serial, and stops serving an
// edition past its expiry, so that a node cut off from the platform stops
// rather than trusting stale certificates and grants.
package exchange
