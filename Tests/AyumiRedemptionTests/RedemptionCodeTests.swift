import AyumiRedemption
import AyumiTestSupport
import Foundation
import Testing

@Suite("Redemption codes")
struct RedemptionCodeTests {
    let signer = try! CodeSigner(rawKey: Data(repeating: 7, count: 32))
    let now = Date(timeIntervalSince1970: 1_795_575_600)

    @Test("a code verifies until it expires and carries who and which code")
    func roundTrip() throws {
        let text = try signer.issue(residentID: "r-1", codeID: "c-1", expiresAt: now.addingTimeInterval(120))
        let code = try signer.verify(text, now: now.addingTimeInterval(119))
        #expect(code == RedemptionCode(residentID: "r-1", codeID: "c-1", expiresAt: now.addingTimeInterval(120)))
        #expect(throws: RedemptionCodeError.expired) { try signer.verify(text, now: now.addingTimeInterval(120)) }
    }

    @Test("a changed payload, another key's signature or garbage is forged")
    func forged() throws {
        let text = try signer.issue(residentID: "r-1", codeID: "c-1", expiresAt: now.addingTimeInterval(120))
        let parts = text.split(separator: ".").map(String.init)
        let payload = String(decoding: Base64URL.decode(parts[0])!, as: UTF8.self)
        let otherPayload = Base64URL.encode(Data(payload.replacingOccurrences(of: "|c-1|", with: "|c-2|").utf8))
        let other = try CodeSigner(rawKey: Data(repeating: 8, count: 32))
        let foreign = try other.issue(residentID: "r-1", codeID: "c-1", expiresAt: now.addingTimeInterval(120))
        for candidate in [otherPayload + "." + parts[1], foreign, "", "abc", "a.b.c", String(repeating: "A", count: 600)] {
            #expect(throws: RedemptionCodeError.forged) { try signer.verify(candidate, now: now) }
        }
    }

    @Test("the code does not show who is paying, and two codes of one resident cannot be linked")
    func residentSealed() throws {
        let first = try signer.issue(residentID: "r-123", codeID: "c-1", expiresAt: now.addingTimeInterval(120))
        let second = try signer.issue(residentID: "r-123", codeID: "c-2", expiresAt: now.addingTimeInterval(120))
        for text in [first, second] {
            let payload = String(decoding: Base64URL.decode(String(text.split(separator: ".")[0]))!, as: UTF8.self)
            #expect(!payload.contains("r-123"))
        }
        let sealed = [first, second].map { String(decoding: Base64URL.decode(String($0.split(separator: ".")[0]))!, as: UTF8.self).split(separator: "|")[3] }
        #expect(sealed[0] != sealed[1])
        #expect(try signer.verify(second, now: now).residentID == "r-123")
    }

    @Test("the key survives a round trip through its raw bytes")
    func keyRoundTrip() throws {
        let raw = CodeSigner.newRawKey()
        #expect(raw.count == 32)
        let text = try CodeSigner(rawKey: raw).issue(residentID: "r-1", codeID: "c", expiresAt: now.addingTimeInterval(60))
        #expect(try CodeSigner(rawKey: raw).verify(text, now: now).residentID == "r-1")
    }

    @Test("the QR PNG decodes back to the same text with zbarimg, and the SVG draws the same modules")
    func qr() throws {
        let text = try signer.issue(residentID: "r-123", codeID: "Y0cHiGTEJHfKxdlX0OyYaQ", expiresAt: now)
        let qr = try QRCode(text: text)
        #expect(try decodeQRCode(png: qr.png()) == text)
        #expect(qr.svg().components(separatedBy: "h1v1h-1z").count - 1 == qr.modules.filter { $0 }.count)
    }
}
