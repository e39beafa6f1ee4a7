// SHA-256 against the FIPS 180-4 / NIST example vectors, messages at the
// padding boundaries (checked with coreutils sha256sum) and incremental
// updates in uneven pieces, which must give the one-shot digest.
import Testing
import CohortCore

@Suite struct SHA256Tests {
    private static func hex(_ s: String) -> String { SHA256.hex(Array(s.utf8)) }
    private static func a(_ n: Int) -> [UInt8] { [UInt8](repeating: UInt8(ascii: "a"), count: n) }

    @Test func nistVectors() {
        #expect(Self.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func oneMillionAs() {
        #expect(SHA256.hex(Self.a(1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    // 55 bytes is the longest message whose padding fits one block; 56–63 need a second block.
    @Test(arguments: [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
        (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
        (1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
    ])
    func paddingBoundaries(length: Int, digest: String) {
        #expect(SHA256.hex(Self.a(length)) == digest)
    }

    @Test func incrementalUpdatesMatchOneShot() {
        let cases: [(Int, [Int], String)] = [
            (1000, [1, 7, 63, 64, 65], "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
            (1_000_000, [1000, 4097, 65536], "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (length, pieces, digest) in cases {
            let message = Self.a(length)
            for piece in pieces {
                var h = SHA256()
                var i = 0
                while i < message.count {
                    let end = min(message.count, i + piece)
                    h.update(Array(message[i..<end]))
                    i = end
                }
                #expect(hexString(h.finalize()) == digest, "\(length) bytes in pieces of \(piece)")
            }
        }
    }

    @Test func allByteValues() {
        let bytes = (0..<4).flatMap { _ in (0...255).map { UInt8($0) } }  // checked with Python's hashlib
        #expect(SHA256.hex(bytes) == "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9")
    }
}
