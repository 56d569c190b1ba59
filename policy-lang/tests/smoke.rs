use antidote_policy::compile;

#[test]
fn smoke() {
    let src = r#"
set trusted = { 198.18.0.20, fd00:198:18::20 }
table poisoners : ip ttl 1h max 1000
rule llmnr-poison "LLMNR answer for {llmnr.qname} from {ip.src}" severity high {
  when llmnr.response and ip.src not in trusted
  then alert; learn poisoners ip.src; drop
}
rule many { when llmnr.response and distinct(llmnr.qname by ip.src over 10s) > 3 then alert high }
default pass
"#;
    let c = compile(src).unwrap_or_else(|d| panic!("{}", antidote_policy::diag::render_all(&d, src, "x")));
    assert_eq!(c.program.rules.len(), 2);
    let bad = "rule x { when llmnr.qnme == \"wpad\" && ip.src = 1.2.3.4 then drop }";
    let d = compile(bad).err().unwrap();
    eprintln!("{}", antidote_policy::diag::render_all(&d, bad, "bad.policy"));
}
