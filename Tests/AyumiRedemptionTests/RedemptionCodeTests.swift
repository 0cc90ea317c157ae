import AyumiRedemption
import AyumiTestSupport
import Foundation
import Testing

@Suite("Redemption codes")
struct RedemptionCodeTests {
    let signer = try! CodeSigner(keys: [SigningKey(id: 1, raw: Data(repeating: 7, count: 32))])
    let now = Date(timeIntervalSince1970: 1_795_575_600)
    let codeID: [UInt8] = Array(0..<12)

    @Test("a code verifies until it expires and carries the resident reference, the code id and the key")
    func roundTrip() throws {
        let text = try signer.issue(residentReference: 4_711, codeID: codeID, expiresAt: now.addingTimeInterval(120))
        #expect(text.count == 144)
        #expect(text.allSatisfy { ("A"..."Z").contains($0) || ("2"..."7").contains($0) }, "uppercase Base32: QR alphanumeric mode")
        let code = try signer.verify(text, now: now.addingTimeInterval(119))
        #expect(code == RedemptionCode(residentReference: 4_711, codeID: Base32.encode(codeID), expiresAt: now.addingTimeInterval(120), keyID: 1))
        #expect(throws: RedemptionCodeError.expired) { try signer.verify(text, now: now.addingTimeInterval(120)) }
        // A scanner with caps lock reversed types lowercase: still the same code.
        #expect(try signer.verify(text.lowercased(), now: now).codeID == Base32.encode(codeID))
    }

    @Test("a changed character at every seventh position, another key's code, or garbage is forged")
    func forged() throws {
        let text = try signer.issue(residentReference: 1, codeID: codeID, expiresAt: now.addingTimeInterval(120))
        let other = try CodeSigner(keys: [SigningKey(id: 1, raw: Data(repeating: 8, count: 32))])
        let foreign = try other.issue(residentReference: 1, codeID: codeID, expiresAt: now.addingTimeInterval(120))
        var candidates = [foreign, "", "ABC", String(repeating: "A", count: 144), String(repeating: "A", count: 600), text + "A", String(text.dropLast())]
        // Every position changed once (the sealed reference, the expiry and the key included).
        for index in stride(from: 0, to: 144, by: 7) {
            var characters = Array(text)
            characters[index] = characters[index] == "B" ? "C" : "B"
            candidates.append(String(characters))
        }
        for candidate in candidates {
            // A changed key byte names a key this signer does not hold; everything else is forged.
            let expected: RedemptionCodeError = Base32.decode(candidate).map { $0.count == 90 && $0[0] == 3 && $0[1] != 1 } == true ? .unknownKey : .forged
            #expect(throws: expected) { try signer.verify(candidate, now: now) }
        }
    }

    @Test("the code does not show who is paying, and two codes of one resident cannot be linked")
    func residentSealed() throws {
        let first = try signer.issue(residentReference: 123, codeID: Array(repeating: 1, count: 12), expiresAt: now.addingTimeInterval(120))
        let second = try signer.issue(residentReference: 123, codeID: Array(repeating: 2, count: 12), expiresAt: now.addingTimeInterval(120))
        let sealed = [first, second].map { Array(Base32.decode($0)![18..<26]) }
        #expect(sealed[0] != sealed[1])
        #expect(!sealed.contains([0, 0, 0, 0, 0, 0, 0, 123]))
        #expect(try signer.verify(second, now: now).residentReference == 123)
    }

    @Test("keys rotate: new codes carry the new key; the old key verifies for an hour after its successor, then forges nothing")
    func rotation() throws {
        let old = try signer.issue(residentReference: 9, codeID: codeID, expiresAt: now.addingTimeInterval(120))
        let rotated = try CodeSigner(keys: [SigningKey(id: 1, raw: Data(repeating: 7, count: 32)),
                                            SigningKey(id: 2, raw: CodeSigner.newRawKey(), createdAt: now)])
        let new = try rotated.issue(residentReference: 9, codeID: codeID, expiresAt: now.addingTimeInterval(120))
        #expect(try rotated.verify(new, now: now).keyID == 2)
        #expect(try rotated.verify(old, now: now).keyID == 1)
        #expect(throws: RedemptionCodeError.unknownKey) { try signer.verify(new, now: now) }
        // A code signed with the old key an hour after key 2 came in: the old key may have leaked.
        let late = now.addingTimeInterval(3_600)
        let forged = try signer.issue(residentReference: 9, codeID: codeID, expiresAt: late.addingTimeInterval(60))
        #expect(throws: RedemptionCodeError.forged) { try rotated.verify(forged, now: late) }
    }

    @Test("a code claiming to live longer than an hour was not issued here")
    func lifetime() throws {
        let long = try signer.issue(residentReference: 9, codeID: codeID, expiresAt: now.addingTimeInterval(3_601))
        #expect(throws: RedemptionCodeError.forged) { try signer.verify(long, now: now) }
        #expect(try signer.verify(long, now: now.addingTimeInterval(2)).residentReference == 9)
    }

    @Test("Base32 round trips every length, and refuses characters outside the alphabet or stray bits", arguments: Array(0...12))
    func base32(length: Int) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
        #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        #expect(Base32.decode("AB1") == nil)
        #expect(Base32.decode("AB") == nil, "2 characters carry 10 bits: 8 for a byte, and the last 2 must be zero")
    }

    @Test("the QR symbol is version 8 or lower at level M, and zbarimg reads the PNG and the SVG back to the same code")
    func qr() throws {
        let text = try signer.issue(residentReference: Int64.max, codeID: Array(repeating: 255, count: 12), expiresAt: now)
        let qr = try QRCode(text: text)
        let version = (qr.width - 17) / 4
        #expect(version <= 8, "version \(version)")
        #expect(version == 6, "144 alphanumeric characters fit version 6-M (byte mode would need version 8)")
        #expect(try decodeQRCode(png: qr.png()) == text)
        #expect(try decodeQRCode(svg: qr.svg()) == text)
        #expect(qr.svg().components(separatedBy: "h1v1h-1z").count - 1 == qr.modules.filter { $0 }.count)
    }
}
