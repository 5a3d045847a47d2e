//! Mail taken in from the council's mail system (issue 18): any bytes parse to a message or a
//! clear refusal, never a panic, and what is kept is well formed.

/// Parses `data` as an intake message and checks what comes out.
pub fn mime_intake(data: &[u8]) {
    // The intake contains a panic inside mail-parser (it refuses the message); libFuzzer's panic
    // hook would abort before that, so it is silenced for the parse alone. A panic in our own
    // checks below still aborts.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let parsed = sealpost_mail::intake::parse(data);
    std::panic::set_hook(hook);
    let Ok(message) = parsed else { return };
    assert!(!message.text.contains('\r'), "text lines end in \\n, never \\r");
    for file in &message.files {
        assert!(!file.name.trim().is_empty(), "every file has a name");
    }
    for address in message.to.iter().chain(&message.cc) {
        assert_eq!(address, &address.to_lowercase(), "addresses are compared lower-cased");
    }
}
