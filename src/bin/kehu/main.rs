fn main() {
    eprintln!("kehu CLI");
}
