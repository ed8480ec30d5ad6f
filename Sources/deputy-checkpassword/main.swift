import DeputyCheckpassword
#if canImport(Glibc)
import Glibc
#endif

// deputy-checkpassword: Dovecot's checkpassword interface, answered by deputyd.
//
//   passdb {
//     driver = checkpassword
//     args = /usr/bin/deputy-checkpassword --server 127.0.0.1:7641
//   }
//
// Dovecot appends the path of its reply program (checkpassword-reply); on a right password
// this program runs it with USER set to the login deputyd answered with. It exits 1 on a
// refusal and 111 when deputyd can't answer, so that Dovecot answers with a temporary
// failure and nothing counts against the login.

let arguments = CommandLine.arguments
func fail(_ status: Int32, _ message: String) -> Never {
    var text = "deputy-checkpassword: \(message)\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(status)
}

var endpointText: String?
var timeout = 10.0
var index = 1
var replyIndex: Int?
while index < arguments.count {
    switch arguments[index] {
    case "--server", "--socket":
        guard index + 1 < arguments.count else { fail(111, "\(arguments[index]) needs a value") }
        endpointText = arguments[index + 1]
        index += 2
    case "--timeout":
        guard index + 1 < arguments.count, let seconds = Double(arguments[index + 1]), seconds > 0 else { fail(111, "--timeout needs a number of seconds") }
        timeout = seconds
        index += 2
    case "--help", "-h":
        print("usage: deputy-checkpassword --server HOST:PORT|--socket PATH [--timeout SECONDS] REPLY-PROGRAM [ARGS...]")
        print("Dovecot's checkpassword interface: reads user\\0password\\0 on descriptor 3 and asks deputyd's --dovecot-auth listener.")
        exit(0)
    case let option where option.hasPrefix("--"):
        fail(111, "unknown option \(option)")
    default:
        replyIndex = index
        index = arguments.count
    }
}
guard let endpointText else { fail(111, "give deputyd's --dovecot-auth listener with --server HOST:PORT or --socket PATH") }
guard let endpoint = DovecotAuthClient.Endpoint(endpointText) else { fail(111, "\(endpointText) is neither HOST:PORT nor an absolute socket path") }
guard let replyIndex else { fail(111, "no reply program: Dovecot gives its checkpassword-reply as the last argument") }
let replyProgram = arguments[replyIndex]

var input: [UInt8] = []
var chunk = [UInt8](repeating: 0, count: 513)
while input.count <= 512 {
    let count = chunk.withUnsafeMutableBytes { read(3, $0.baseAddress, $0.count) }
    if count < 0, errno == EINTR { continue }
    guard count > 0 else { break }
    input += chunk[..<count]
}
close(3)
var environment: [String: String] = [:]
for name in ["AUTHORIZED", "SERVICE", "TCPREMOTEIP", "TCPLOCALIP"] {
    if let value = getenv(name) { environment[name] = String(cString: value) }
}
guard input.count <= 512, let request = CheckpasswordRequest(input: input, environment: environment) else {
    fail(111, "descriptor 3 did not hold user\\0password\\0 (is this run by Dovecot's checkpassword passdb?)")
}

switch DovecotAuthClient(endpoint: endpoint, timeout: timeout).check(request) {
case .accepted(let login):
    setenv("USER", login, 1)
    var pointers = arguments[replyIndex...].map { strdup($0) } + [nil]
    execv(replyProgram, &pointers)
    fail(111, "can't run the reply program \(replyProgram): \(String(cString: strerror(errno)))")
case .refused:
    exit(1)
case .temporaryFailure(let reason):
    fail(111, reason)
}
