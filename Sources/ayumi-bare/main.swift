import Hummingbird

/// The framework's own ceiling for `scripts/bench`: Hummingbird answering every POST with 200 and
/// a small JSON body, nothing else. Ayumi's HTTP figures are set beside this one, measured the
/// same way in the same run. Usage: ayumi-bare PORT
let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8081 : 8081
let router = Router()
router.post("**") { request, _ -> Response in
    _ = try await request.body.collect(upTo: 2 << 20)
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true}"# + "\n")))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
