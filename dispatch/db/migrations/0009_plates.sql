-- Plates of any market: a vehicle's `plate` is the key it is matched by (dispatch/plates.py:
-- NFKC-folded, upper case, letters and digits only), `plate_display` is as typed. The key may now
-- hold a Chinese plate (province, office letter, serial, and 挂 for a trailer or 港/澳 for a
-- cross-border truck) as well as the 2 to 15 Latin letters and digits of before, so every stored
-- row still passes. UNIQUE (org_id, plate) stays: two spellings of one plate are one key.
ALTER TABLE vehicles DROP CONSTRAINT vehicles_plate_check;
ALTER TABLE vehicles ADD CONSTRAINT vehicles_plate_check CHECK (
    plate ~ '^[A-Z0-9]{2,15}$'
    OR plate ~ '^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-Z0-9]{4,6}[挂港澳]?$'
);
