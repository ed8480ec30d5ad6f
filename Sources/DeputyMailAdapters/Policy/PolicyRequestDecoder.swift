import DeputyServer
import NIOCore

/// Cuts policy requests off the front of a stream of `name=value` lines, each request
/// ending with an empty line.
///
/// A line without `=`, a block over the size limit or with too many attributes, or an
/// empty block is an error: the protocol has no error reply, so the connection closes.
public struct PolicyRequestDecoder: Sendable {
    /// The most bytes one block may hold, its lines and their terminators.
    public let maximumBlockSize: Int
    private var lines: MailLineDecoder
    private var attributes: [String: String] = [:]
    private var attributeCount = 0
    private var blockSize = 0

    /// Creates a decoder for blocks of up to `maximumBlockSize` bytes.
    public init(maximumBlockSize: Int) {
        self.maximumBlockSize = maximumBlockSize
        self.lines = MailLineDecoder(maximumLength: maximumBlockSize)
    }

    /// The next complete request, its lines consumed; `nil` when more bytes are needed
    /// (the lines of a partial block are consumed and kept).
    public mutating func decode(_ buffer: inout ByteBuffer) throws(MailAdapterError) -> PolicyRequest? {
        while true {
            let before = buffer.readableBytes
            let next = try lines.decode(&buffer)
            guard let line = next else {
                guard blockSize + buffer.readableBytes <= maximumBlockSize else {
                    throw .overLimit("a policy request is longer than \(maximumBlockSize) bytes")
                }
                return nil
            }
            blockSize += before - buffer.readableBytes
            guard blockSize <= maximumBlockSize else {
                throw .overLimit("a policy request is longer than \(maximumBlockSize) bytes")
            }
            if line.readableBytes == 0 {
                guard attributeCount > 0 else { throw .malformed("a policy request has no attributes") }
                let request = PolicyRequest(attributes: attributes)
                attributes = [:]
                attributeCount = 0
                blockSize = 0
                return request
            }
            // attribute = name "=" value; the name is not empty, the value may be.
            let view = line.readableBytesView
            guard let equals = view.firstIndex(of: UInt8(ascii: "=")), equals != view.startIndex else {
                throw .malformed("a policy request line is not name=value")
            }
            attributeCount += 1
            guard attributeCount <= MailAdapterDefaults.policyMaximumAttributes else {
                throw .overLimit("a policy request has more than \(MailAdapterDefaults.policyMaximumAttributes) attributes")
            }
            let name = String(decoding: view[..<equals], as: UTF8.self)
            attributes[name] = String(decoding: view[view.index(after: equals)...], as: UTF8.self)
        }
    }
}
