import Foundation

/// A resident's card, ready to print: an A4 page (SVG, millimetres) with one card of the size of a
/// bank card (85.6 × 54 mm, ISO/IEC 7810 ID-1) inside a dashed line to cut along. The card shows the
/// program's name, the card number in groups of four and a QR code of the number only: neither the
/// resident's id nor their PIN is on it.
public enum CardPrint {
    public static func svg(number: String, programName: (ja: String, en: String)) throws -> String {
        let qr = try QRCode(text: number)
        let side = qr.width + 2 * QRCode.quietZoneModules
        var path = ""
        for y in 0..<side {
            for x in 0..<side where qr.isDark(x: x, y: y) { path += "M\(x) \(y)h1v1h-1z" }
        }
        let grouped = stride(from: 0, to: number.count, by: 4).map { String(number.dropFirst($0).prefix(4)) }.joined(separator: " ")
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        // The QR code: 30 mm square at the card's right, at least 0.5 mm a module for cheap scanners.
        let qrSize = 30.0, scale = qrSize / Double(side)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297">
            <rect width="210" height="297" fill="#fff"/>
            <g transform="translate(20 20)">
            <rect width="85.6" height="54" rx="3.2" fill="#fff" stroke="#888" stroke-width="0.3" stroke-dasharray="2 1"/>
            <text x="5" y="9" font-family="sans-serif" font-size="4.2" font-weight="bold">\(escape(programName.ja))</text>
            <text x="5" y="14" font-family="sans-serif" font-size="3">\(escape(programName.en))</text>
            <text x="5" y="26" font-family="sans-serif" font-size="2.8">カード番号 / Card number</text>
            <text x="5" y="32" font-family="monospace" font-size="4.2">\(grouped)</text>
            <text x="5" y="46" font-family="sans-serif" font-size="2.4">お店でこのカードと暗証番号をお使いください</text>
            <text x="5" y="49.5" font-family="sans-serif" font-size="2.4">Show this card at the shop and type your PIN</text>
            <g transform="translate(\(85.6 - qrSize - 2) 12) scale(\(scale))" shape-rendering="crispEdges">
            <rect width="\(side)" height="\(side)" fill="#fff"/><path fill="#000" d="\(path)"/>
            </g>
            </g>
            </svg>

            """
    }
}
