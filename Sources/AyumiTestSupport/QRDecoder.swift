import Foundation

/// Runs a program as a test's outside witness (zbarimg, sqlite3): its exit status and standard
/// output; standard error is discarded.
public func runProgram(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Decodes a QR PNG with zbarimg (zbar-tools), as a till's scanner would; "" when nothing decodes.
public func decodeQRCode(png: Data) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-qr-\(UUID().uuidString).png")
    try png.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    return try runProgram("/usr/bin/zbarimg", ["--quiet", "--raw", file.path]).output.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Decodes a QR SVG: librsvg's `rsvg-convert` draws it (as a browser would), zbarimg reads the PNG.
public func decodeQRCode(svg: String) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("ayumi-qr-\(UUID().uuidString)")
    try Data(svg.utf8).write(to: file.appendingPathExtension("svg"))
    defer {
        try? FileManager.default.removeItem(at: file.appendingPathExtension("svg"))
        try? FileManager.default.removeItem(at: file.appendingPathExtension("png"))
    }
    // A white background: the SVG draws dark modules only, and a transparent PNG reads as black.
    let drawn = try runProgram("/usr/bin/rsvg-convert", ["--background-color", "white", "-o", file.appendingPathExtension("png").path,
                                                         file.appendingPathExtension("svg").path])
    guard drawn.status == 0 else { return "" }
    return try runProgram("/usr/bin/zbarimg", ["--quiet", "--raw", file.appendingPathExtension("png").path]).output
        .trimmingCharacters(in: .whitespacesAndNewlines)
}
