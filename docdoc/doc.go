// Package docdoc is the electronic official document (电子公文) of egovkit:
// one Go model, one published JSON Schema, one set of rules taken from
// GB/T 9704-2012 (党政机关公文格式) and the 党政机关公文处理工作条例, and a
// package format that carries a document with its files.
//
// # The document
//
// A [Document] is the JSON object that the schema returned by [Schema]
// describes (draft 2020-12, $id [SchemaID]). Its members are the elements
// of GB/T 9704-2012:
//
//	版头  份号 copyNumber · 密级和保密期限 classification · 紧急程度 urgency ·
//	      发文机关 issuers · 发文字号 docNumber · 签发人 signers
//	主体  标题 title · 主送机关 mainRecipients · 正文 body · 附件说明 attachmentNotes ·
//	      发文机关署名 signatory · 成文日期 date · 印章 signatures · 附注 notes ·
//	      附件 attachments
//	版记  抄送机关 cc · 印发机关和印发日期 printedBy, printDate
//
// plus specVersion ("docdoc/1"), id (a UUIDv7) and type (文种, one of the 15
// types of 条例 第八条, see [Types]). Several issuers make a joint document
// (联合行文); the first is the lead organ whose number it carries. Organs
// are identified by their unified social credit identifier (统一社会信用代码,
// [CheckOrgID]). Every object is closed, and every array and string that is
// present is non-empty (signatures aside: seals do not cover that member),
// so a valid document survives [Parse] and [Marshal] unchanged: a system
// that reads and rewrites a document loses nothing a seal covers.
//
// # Validation
//
// [Parse] and [ParseBytes] read a document strictly (valid UTF-8, no
// duplicate member names, no lone surrogates, numbers a double can hold, at
// most [MaxDocumentSize] bytes and [MaxDepth] levels), validate it against
// the schema, and apply the rules a schema cannot express: a classified
// document carries its copy number and period; upward documents (请示,
// 报告) name their signers; a request has one main recipient; document
// numbers are written 机关代字〔年份〕序号号 ([ParseDocNumber]); check
// characters of GB 32100-2015; real dates, printed on or after the date of
// writing; attachment notes that match the attachments one to one.
// [Validate] checks a document built in Go the same way.
//
// Every failure is a [*ValidationError] holding every violation, each with
// a JSON Pointer, a stable rule id and a message that says what was
// expected. RULES.md lists the rules with their sources; the conformance
// suite in testdata/conformance (a JSON manifest of valid and invalid
// documents with the rule ids each must raise) lets another implementation
// check itself against this one. The command line does the same without Go:
// egovkit schema, egovkit validate.
//
// # The document package
//
// A package (.egd) is a zip in the manner of ETSI ASiC-E: the entry
// mimetype first, stored, holding [MediaType]; then document.json; then
// body/FILE for a body kept as a file and attachments/NAME for each
// attachment; META-INF/ is reserved for signatures. [Pack] writes one,
// streaming each file and filling in sizes and digests (SHA-256 or SM3).
// [OpenPackage] and [Unpack] check one before anything is trusted: safe
// entry names, no duplicates, nothing unlisted and nothing missing, the
// document valid, and limits against decompression bombs
// ([PackageLimits]); each file is checked against its size and digest as
// it streams. [Unpack] writes only inside its target directory, never
// overwrites, and leaves nothing behind when it fails.
//
// # Seals
//
// Seals (印章) travel in the document's signatures member as detached JWS
// signatures over the RFC 8785 canonical form of the document without that
// member, so that seals are independent and a joint document carries one
// per issuer. [Seal] adds the seal of an issuing organ through a
// signature.Signer (Ed25519, ECDSA P-256, RSA-PSS or SM2 with SM3);
// [VerifySeals] checks every seal against trust anchors and, with
// [SealPolicy].RequireIssuerSeals, that every issuer has sealed.
package docdoc
