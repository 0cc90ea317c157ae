import Foundation

/// Decodes a QR PNG with zbarimg (zbar-tools), as a till's scanner would; "" when nothing decodes.
public func decodeQRCode(png: Data) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-qr-\(UUID().uuidString).png")
    try png.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/zbarimg")
    process.arguments = ["--quiet", "--raw", file.path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
