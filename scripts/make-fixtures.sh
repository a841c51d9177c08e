#!/usr/bin/env bash
# Regenerate the spreadsheet fixtures in tests/fixtures/ that need a real
# office suite: a workbook written by openpyxl, converted by LibreOffice to
# .xls (BIFF8) and .ods. The fixtures are committed; this script is only for
# changing them, so LibreOffice is not part of scripts/install-deps.sh
# (apt-get install -y --no-install-recommends libreoffice-calc-nogui).
#
# With a workspace file as first argument it also exports that workspace's
# customers to xlsx and has LibreOffice read them back as csv (a check by a
# real client; the test suite does the same with openpyxl).
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v soffice >/dev/null || { echo "needs LibreOffice (soffice)"; exit 1; }
python3 - "$tmp/office.xlsx" <<'PY'
import sys, datetime, openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "客户"
ws.append(["客户名称", "联系人", "手机", "所属行业", "客户分级", "首次接触日期", "年采购额", "备注"])
rows = [
    ["杭州云帆科技有限公司", "张伟", "13800138000", "制造业", "A", datetime.date(2024, 3, 1), 1250000.5, "华东重点客户"],
    ["深圳前海贸易有限公司", "李娜", "13912345678", "批发零售", "B", datetime.date(2023, 12, 31), 86000, "需要报价单"],
    ["成都锦江餐饮管理有限公司", "王强", "13700000001", "餐饮", "C", datetime.date(2024, 2, 29), 0.75, "闰日"],
]
for r in rows:
    ws.append(r)
for r in range(2, 5):
    ws.cell(r, 6).number_format = "yyyy-mm-dd"
    ws.cell(r, 7).number_format = "#,##0.00"
opp = wb.create_sheet("销售机会")
opp.append(["客户名称", "机会名称", "预计成交金额(元)", "预计成交日期", "阶段"])
opp.append(["杭州云帆科技有限公司", "年度设备采购", 50000, datetime.date(2024, 6, 30), "方案提供"])
opp.cell(2, 4).number_format = "yyyy-mm-dd"
wb.save(sys.argv[1])
PY
for fmt in xls ods; do
  soffice --headless --norestore --convert-to "$fmt" --outdir "$tmp" "$tmp/office.xlsx" >/dev/null
  cp "$tmp/office.$fmt" "$out/libreoffice.$fmt"
done
ls -l "$out"/libreoffice.*

if [ $# -ge 1 ]; then
  bin=${CARGO_TARGET_DIR:-target}/debug/kehu
  [ -x "$bin" ] || cargo build --no-default-features --bin kehu
  "$bin" --db "$1" export customers --out "$tmp/export.xlsx"
  soffice --headless --norestore --convert-to "csv:Text - txt - csv (StarCalc):44,34,76" --outdir "$tmp" "$tmp/export.xlsx" >/dev/null
  cat "$tmp/export.csv"
fi
