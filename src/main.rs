fn main() {
    println!("fleetdeck");
}
