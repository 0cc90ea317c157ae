import CQRencode
import CAyumiZlib
import Foundation

/// A QR symbol rendered by libqrencode, as a PNG (for phones that show images) or an SVG (crisp at
/// any size). Error correction level M survives a cracked screen protector; the 4-module quiet zone
/// is what scanners need to find the symbol.
public struct QRCode: Sendable {
    public let width: Int
    /// Row-major, true for a dark module.
    public let modules: [Bool]

    public static let quietZoneModules = 4

    public enum Failure: Error { case encodingFailed }

    public init(text: String) throws {
        guard let symbol = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else { throw Failure.encodingFailed }
        defer { QRcode_free(symbol) }
        width = Int(symbol.pointee.width)
        let data = UnsafeBufferPointer(start: symbol.pointee.data, count: width * width)
        modules = data.map { $0 & 1 == 1 }
    }

    public func isDark(x: Int, y: Int) -> Bool {
        let q = Self.quietZoneModules
        guard x >= q, y >= q, x < width + q, y < width + q else { return false }
        return modules[(y - q) * width + (x - q)]
    }

    /// An 8-bit greyscale PNG with `scale` pixels per module.
    public func png(scale: Int = 8) -> Data {
        let side = (width + 2 * Self.quietZoneModules) * scale
        var raw = [UInt8]()
        raw.reserveCapacity((side + 1) * side)
        for row in 0..<side {
            raw.append(0) // filter type: none
            for column in 0..<side {
                raw.append(isDark(x: column / scale, y: row / scale) ? 0 : 255)
            }
        }
        var header = Data()
        header.appendBigEndian(UInt32(side))
        header.appendBigEndian(UInt32(side))
        header.append(contentsOf: [8, 0, 0, 0, 0]) // depth 8, greyscale, deflate, no filter set, no interlace
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        png.appendChunk("IHDR", header)
        png.appendChunk("IDAT", Self.deflate(raw))
        png.appendChunk("IEND", Data())
        return png
    }

    public func svg(moduleSize: Int = 8) -> String {
        let side = width + 2 * Self.quietZoneModules
        var path = ""
        for y in 0..<side {
            for x in 0..<side where isDark(x: x, y: y) { path += "M\(x) \(y)h1v1h-1z" }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(side * moduleSize)" height="\(side * moduleSize)" \
            viewBox="0 0 \(side) \(side)" shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" fill="#fff"/>\
            <path fill="#000" d="\(path)"/></svg>

            """
    }

    static func deflate(_ bytes: [UInt8]) -> Data {
        var length = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = compress2(&output, &length, bytes, uLong(bytes.count), 9)
        precondition(status == Z_OK, "zlib compress2 cannot fail with a buffer of compressBound size")
        return Data(output[0..<Int(length)])
    }
}

extension Data {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }

    mutating func appendChunk(_ type: String, _ body: Data) {
        appendBigEndian(UInt32(body.count))
        let typed = Data(type.utf8) + body
        append(typed)
        let crc = typed.withUnsafeBytes { buffer in
            crc32(0, buffer.bindMemory(to: UInt8.self).baseAddress, uInt(buffer.count))
        }
        appendBigEndian(UInt32(crc))
    }
}
