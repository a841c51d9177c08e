//! `kehu search QUERY`

use crate::{output, Ctx};
use kehu::customer_list;
use kehu::Result;

#[derive(clap::Args)]
pub struct Args {
    /// Name, code, contact, phone digits, tag, note or pinyin (zhang, zs).
    query: String,
    #[arg(long, default_value_t = 20)]
    limit: u32,
}

pub fn run(ctx: &mut Ctx, a: Args) -> Result<()> {
    let rows = customer_list::quick_search(ctx.ws.conn(), &a.query, a.limit)?;
    if ctx.json {
        output::json(&rows);
    } else {
        let n = rows.len() as u32;
        output::customer_rows(&rows, n, ctx.lang);
    }
    Ok(())
}
