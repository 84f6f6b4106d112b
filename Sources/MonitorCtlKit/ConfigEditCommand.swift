import ArgumentParser
import EtcdClient
import Foundation

/// `monitorctl config edit NODE|default`: $EDITOR on the current value, then a
/// compare-and-swap on the mod revision that was read, so an edit never
/// silently overwrites a change made meanwhile.
struct ConfigEditCommand: CtlCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Edit a node's config key (or the default key) in $EDITOR (fallback vi).",
        discussion: """
        The value is validated before it is written, and written only if the key did \
        not change while you were editing; otherwise nothing is written and your edit \
        is kept in its temporary file. An empty or unchanged file writes nothing.
        """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A node name, or \"default\".", valueName: "node"))
    var target: String

    @Flag(name: .long, help: "Edit the config of a node that has not registered yet (pre-provisioning).")
    var force = false

    func validate() throws {
        try CtlSession.validate(target: target, allowDefault: true)
    }

    func execute(_ session: CtlSession) throws -> Int32 {
        try session.checkConfigTarget(target, force: force)
        let key = target == "default" ? session.layout.defaultConfig : session.layout.config(target)
        let current = try session.get(key)
        let original = current.map { Self.editable($0.value) } ?? "{}\n"
        let file = try TemporaryFile(directory: session.environment["TMPDIR"] ?? "/tmp",
                                     name: "monitorctl-\(target)", contents: original)
        var keepFile = false
        defer { if !keepFile { file.remove() } }

        try runEditor(session, path: file.path)
        let edited = try file.read()
        let trimmed = edited.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || trimmed == original.trimmingCharacters(in: .whitespacesAndNewlines) {
            session.output.line("\(key): no changes, nothing written")
            return CtlExitCode.success
        }
        do {
            _ = try ConfigValue.validate(Array(trimmed.utf8))
        } catch let error as CtlError {
            keepFile = true
            throw CtlError.usage("\(error.message); nothing written (your edit is kept in \(file.path))")
        }
        // Normalised (sorted keys, compact), unknown extra fields kept.
        let value = ConfigValue.object(Array(trimmed.utf8)).map { ConfigValue.encode($0) } ?? Array(trimmed.utf8)
        session.beforeWrite?(1)
        let revision = current?.modRevision ?? 0
        let written = try session.etcd("writing \(key)") { try $0.putIf(key, value: value, modRevision: revision) }
        guard written else {
            keepFile = true
            let now = (try? session.get(key))?.modRevision
            let change = now.map { "mod revision \(revision) -> \($0)" } ?? "deleted"
            throw CtlError.runtime("\(key) changed while you were editing (\(revision == 0 ? "created" : change)); "
                                   + "nothing written (your edit is kept in \(file.path)); run config edit again")
        }
        session.output.line("\(key): \(String(decoding: value, as: UTF8.self))")
        return CtlExitCode.success
    }

    /// Pretty-printed when the value is a JSON object, as stored otherwise.
    static func editable(_ value: [UInt8]) -> String {
        guard let object = ConfigValue.object(value) else {
            let text = String(decoding: value, as: UTF8.self)
            return text.hasSuffix("\n") ? text : text + "\n"
        }
        return String(decoding: ConfigValue.encode(object, pretty: true), as: UTF8.self) + "\n"
    }

    /// Runs `$EDITOR path` through /bin/sh (EDITOR may carry arguments, e.g.
    /// "code --wait") on this terminal, and waits for it.
    private func runEditor(_ session: CtlSession, path: String) throws {
        let editor = session.environment["EDITOR"].flatMap { $0.isEmpty ? nil : $0 } ?? "vi"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", editor + " \"$1\"", "sh", path]
        process.environment = session.environment
        do {
            try process.run()
        } catch {
            throw CtlError.runtime("cannot start the editor \"\(editor)\": \(error.localizedDescription)")
        }
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw CtlError.runtime("the editor \"\(editor)\" exited with status \(process.terminationStatus); nothing written")
        }
    }
}

/// A file only we can read (mode 0600, created with mkstemps), for the editor.
struct TemporaryFile {
    let path: String

    init(directory: String, name: String, contents: String) throws {
        let pattern = (directory.hasSuffix("/") ? directory : directory + "/") + name + "-XXXXXX.json"
        var template = Array(pattern.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 5) }
        guard fd >= 0 else {
            throw CtlError.runtime("cannot create a temporary file in \(directory): \(String(cString: strerror(errno)))")
        }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        handle.write(Data(contents.utf8))
        try? handle.close()
    }

    func read() throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CtlError.runtime("cannot read \(path) back from the editor")
        }
        return String(decoding: data, as: UTF8.self)
    }

    func remove() { unlink(path) }
}
