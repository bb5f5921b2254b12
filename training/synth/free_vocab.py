"""Wording for the free-layout documents (:mod:`training.synth.render_free`).

The layout families keep their own vocabulary (:mod:`training.synth.vocab`) so that their
documents, and the held-out figures measured on them, do not move. What is here widens what the
model sees: the keys of a real header grid that are NOT order fields (department, vendor number,
contact, VAT ids...) with values that look like order numbers and dates, extra table columns
(EAN, HS code, colour, tax) that are not line fields, English as it is written in India, the Gulf
and Australia, and Italian and Portuguese orders.

Every string must be encodable in cp1252 (reportlab's standard fonts), except the Hebrew ones at the
end, which are drawn in a TrueType font.
"""

from __future__ import annotations

# Languages of free-layout documents: the family languages plus two more. English is drawn most.
FREE_LANGS: tuple[str, ...] = ("en", "en", "en", "de", "fr", "es", "nl", "it", "pt", "he")

# Header captions of the order fields for the two extra languages, and extra English variants.
HEADER_LABELS_EXTRA: dict[str, dict[str, list[str]]] = {
    "en": {
        "title": ["LOCAL PURCHASE ORDER", "PURCHASE ORDER", "Purchase Order", "PO", "Order Sheet",
                  "Indent / Purchase Order", "Supplier Order"],
        "po_number": ["LPO No.", "LPO Number:", "P.O. No.", "PO Ref:", "Order Ref.", "Purchase Order #",
                      "Document No.", "PO No", "Order No:"],
        "order_date": ["LPO Date:", "Dated:", "Issue Date:", "Order Placed:", "Date Raised:", "PO Date"],
        "requested_date": ["Delivery Due:", "Required Date:", "Expected Delivery:", "ETA:", "Deliver By:",
                           "Due Date"],
        "buyer": ["Ordered By:", "Purchaser", "Buyer", "Company:"],
        "supplier": ["Vendor", "Supplier", "Vendor Name & Address", "Seller:", "M/s.", "Supplier Details"],
        "ship_to": ["Ship To", "Delivery Location:", "Consignee:", "Deliver To", "Delivery At:", "Site Address:"],
        "bill_to": ["Bill To", "Invoice Address", "Billing Address"],
        "payment_terms": ["Payment Terms", "Credit Terms:", "Payment:", "Terms of payment:"],
        "currency": ["Currency", "Curr:", "Currency:"],
        "total": ["Grand Total", "Total Amount", "Net Payable", "TOTAL VALUE", "Total PO Value", "Order Value",
                  "Total (incl. VAT)"],
        "subtotal": ["Sub Total", "Total before tax", "Net Value", "Taxable Value"],
        "tax": ["VAT", "GST", "IGST", "Sales Tax", "Tax"],
    },
    "it": {
        "title": ["ORDINE DI ACQUISTO", "Ordine fornitore", "ORDINE", "Ordine d'acquisto"],
        "po_number": ["Numero ordine:", "N. ordine:", "Ordine n.", "Rif. ordine:"],
        "order_date": ["Data ordine:", "Data:", "Data documento:"],
        "requested_date": ["Data consegna:", "Consegna richiesta:", "Termine di consegna:"],
        "buyer": ["Committente:", "Cliente:", "Acquirente:"],
        "supplier": ["Fornitore:", "Spett.le", "Destinatario:"],
        "ship_to": ["Luogo di consegna:", "Indirizzo di consegna:", "Consegnare a:"],
        "bill_to": ["Indirizzo di fatturazione:", "Fatturare a:"],
        "payment_terms": ["Condizioni di pagamento:", "Pagamento:", "Modalità di pagamento:"],
        "currency": ["Valuta:", "Divisa:"],
        "subtotal": ["Imponibile", "Totale merce", "Subtotale"],
        "freight": ["Trasporto", "Spese di spedizione"],
        "discount": ["Sconto"],
        "tax": ["IVA"],
        "total": ["Totale", "TOTALE", "Totale ordine", "Totale documento"],
        "carried": ["A riportare"],
        "brought": ["Riporto"],
        "page": ["Pagina", "Pag."],
        "of": ["di"],
        "notes": ["Note:", "Annotazioni:"],
    },
    "pt": {
        "title": ["ORDEM DE COMPRA", "Pedido de compra", "NOTA DE ENCOMENDA", "Encomenda"],
        "po_number": ["Número do pedido:", "N.º encomenda:", "Pedido n.º", "Ordem de compra:"],
        "order_date": ["Data do pedido:", "Data:", "Data de emissão:"],
        "requested_date": ["Data de entrega:", "Prazo de entrega:", "Entrega prevista:"],
        "buyer": ["Comprador:", "Cliente:", "Requisitante:"],
        "supplier": ["Fornecedor:", "Para:", "Exmos. Senhores"],
        "ship_to": ["Local de entrega:", "Morada de entrega:", "Entregar em:"],
        "bill_to": ["Morada de faturação:", "Faturar a:"],
        "payment_terms": ["Condições de pagamento:", "Pagamento:", "Prazo de pagamento:"],
        "currency": ["Moeda:", "Divisa:"],
        "subtotal": ["Subtotal", "Total ilíquido", "Valor líquido"],
        "freight": ["Frete", "Portes"],
        "discount": ["Desconto"],
        "tax": ["IVA"],
        "total": ["Total", "TOTAL", "Total do pedido", "Valor total"],
        "carried": ["A transportar"],
        "brought": ["Transporte"],
        "page": ["Página", "Pág."],
        "of": ["de"],
        "notes": ["Observações:", "Notas:"],
    },
}

COLUMN_LABELS_EXTRA: dict[str, dict[str, list[str]]] = {
    "en": {
        "line_no": ["S.No.", "Sr.", "SNo", "Ln", "Item No.", "Pos"],
        "sku": ["Material", "Material No.", "Part Number", "Vendor Item No.", "Product ID", "Style No.",
                "Article No.", "Item", "Code", "Catalog No."],
        "description": ["Material Description", "Item Name", "Particulars", "Description of Goods",
                        "Product Description", "Article Description", "Details"],
        "quantity": ["Quantity", "Qty.", "Order Qty", "Units", "Ordered", "QTY"],
        "uom": ["UM", "Unit", "UoM", "Pack"],
        "unit_price": ["Unit Price", "Rate", "Price/Unit", "Cost", "Net Price", "Unit Cost"],
        "amount": ["Net Amount", "Value", "Total", "Amount", "Extended Price", "Line Value"],
    },
    "it": {
        "line_no": ["Riga", "Pos.", "N."],
        "sku": ["Codice", "Cod. articolo", "Articolo"],
        "description": ["Descrizione", "Descrizione articolo"],
        "quantity": ["Quantità", "Q.tà", "Qtà"],
        "uom": ["U.M.", "UM"],
        "unit_price": ["Prezzo unitario", "Prezzo", "Pr. unit."],
        "discount_pct": ["Sconto %", "Sc. %"],
        "amount": ["Importo", "Totale", "Valore"],
    },
    "pt": {
        "line_no": ["Linha", "Item", "N.º"],
        "sku": ["Código", "Referência", "Ref.ª", "Artigo"],
        "description": ["Descrição", "Designação"],
        "quantity": ["Quantidade", "Qtd.", "Qtde"],
        "uom": ["Unidade", "Un.", "UN"],
        "unit_price": ["Preço unitário", "Preço", "P. unit."],
        "discount_pct": ["Desc. %", "Desconto %"],
        "amount": ["Valor", "Total", "Montante"],
    },
}

# Columns that are NOT line fields (labelled O). Per language: caption synonyms.
EXTRA_COLUMNS: dict[str, dict[str, list[str]]] = {
    "en": {"ean": ["EAN", "Barcode", "EAN Code", "UPC"], "hs": ["HS Code", "HSN", "HSN/SAC", "Tariff No."],
           "colour": ["Colour", "Color", "Shade"], "size": ["Size"], "tax_pct": ["Tax %", "GST %", "VAT %", "Tax Rate"],
           "del_date": ["Delivery Date", "Del. Date", "Need Date", "Due"], "cust_part": ["Your Part No.", "Customer Ref.",
           "Buyer Item No.", "Our Ref."], "mrp": ["MRP", "List Price", "RRP", "Retail"]},
    "de": {"ean": ["EAN", "GTIN"], "hs": ["Zolltarifnr.", "Warennr."], "colour": ["Farbe"], "size": ["Größe"],
           "tax_pct": ["MwSt. %", "USt %"], "del_date": ["Liefertermin", "Termin"],
           "cust_part": ["Ihre Art.-Nr.", "Kunden-Mat.-Nr."], "mrp": ["Listenpreis", "UVP"]},
    "fr": {"ean": ["EAN", "Code barre", "GENCOD"], "hs": ["Code douanier", "Nomenclature"], "colour": ["Couleur", "Coloris"],
           "size": ["Taille"], "tax_pct": ["TVA %", "Taux TVA"], "del_date": ["Date livraison", "Délai"],
           "cust_part": ["Votre réf.", "Réf. fournisseur"], "mrp": ["Prix public", "Prix catalogue"]},
    "es": {"ean": ["EAN", "Código de barras"], "hs": ["Código arancelario"], "colour": ["Color"], "size": ["Talla"],
           "tax_pct": ["IVA %"], "del_date": ["Fecha entrega", "Entrega"], "cust_part": ["Su referencia", "Ref. proveedor"],
           "mrp": ["PVP", "Precio tarifa"]},
    "nl": {"ean": ["EAN", "Barcode"], "hs": ["GN-code"], "colour": ["Kleur"], "size": ["Maat"], "tax_pct": ["BTW %"],
           "del_date": ["Leverdatum"], "cust_part": ["Uw art.nr.", "Lev. art.nr."], "mrp": ["Adviesprijs"]},
    "it": {"ean": ["EAN", "Codice a barre"], "hs": ["Voce doganale"], "colour": ["Colore"], "size": ["Taglia"],
           "tax_pct": ["IVA %", "Aliq."], "del_date": ["Data consegna", "Consegna"],
           "cust_part": ["Vs. codice", "Cod. fornitore"], "mrp": ["Prezzo listino"]},
    "pt": {"ean": ["EAN", "Código de barras"], "hs": ["Código pautal", "NCM"], "colour": ["Cor"], "size": ["Tamanho"],
           "tax_pct": ["IVA %", "Taxa"], "del_date": ["Data entrega", "Entrega"],
           "cust_part": ["V/ referência", "Ref. fornecedor"], "mrp": ["PVP", "Preço tabela"]},
}

# Keys of a header grid that are not order fields: caption synonyms and what kind of value they
# carry ("num", "code", "date", "person", "phone", "email", "text", "short").
DISTRACTOR_KEYS: dict[str, list[tuple[list[str], str]]] = {
    "en": [
        (["Quotation No.", "Quote Ref:", "Your Quotation:", "Offer No."], "code"),
        (["Requisition No.", "PR No.", "Indent No.", "Request No."], "num"),
        (["Vendor No.", "Vendor Code:", "Supplier ID:", "Your vendor number with us:", "Account No."], "num"),
        (["Department:", "Dept.", "Division:", "Cost Centre:", "Project:"], "short"),
        (["Contact:", "Contact Person:", "Buyer Name:", "Requested by:", "Attn:", "Prepared by:"], "person"),
        (["Phone:", "Tel:", "Telephone:", "Mobile:", "Fax:"], "phone"),
        (["E-mail:", "Email:", "Mail:"], "email"),
        (["VAT No.:", "VAT Reg. No.:", "GSTIN:", "TRN:", "Tax ID:", "ABN:", "PAN:"], "taxid"),
        (["Incoterms:", "Delivery Terms:", "Terms of Delivery:", "Ship Via:", "Freight Terms:", "Mode of Dispatch:"], "text"),
        (["Revision:", "Rev.", "Version:", "Amendment No.:"], "small"),
        (["Printed:", "Print Date:", "Created On:", "Valid Until:", "Quotation Date:", "Expiry Date:"], "date"),
        (["Season:", "Category:", "Factory:", "Country of Origin:", "Brand:", "Collection:"], "short"),
        (["Contract No.:", "Agreement:", "Blanket PO:", "Reference:", "Our Ref.:", "Your Ref.:"], "code"),
        (["Total Units:", "Total Qty:", "No. of Items:", "Total Cartons:"], "count"),
    ],
    "de": [
        (["Angebotsnr.:", "Ihr Angebot:", "Angebot vom:"], "code"),
        (["Lieferantennr.:", "Ihre Lieferantennummer:", "Kreditor:", "Kundennr.:"], "num"),
        (["Abteilung:", "Kostenstelle:", "Projekt:"], "short"),
        (["Ansprechpartner:", "Sachbearbeiter:", "Einkäufer:", "Bearbeiter:"], "person"),
        (["Telefon:", "Tel.:", "Fax:"], "phone"), (["E-Mail:"], "email"),
        (["USt-IdNr.:", "Steuernr.:"], "taxid"),
        (["Lieferbedingungen:", "Versandart:", "Incoterms:"], "text"),
        (["Druckdatum:", "Erstellt am:", "Gültig bis:"], "date"), (["Änderungsstand:", "Version:"], "small"),
        (["Ihr Zeichen:", "Unser Zeichen:", "Rahmenvertrag:"], "code"),
    ],
    "fr": [
        (["Devis n°", "Votre devis :", "Offre n°"], "code"), (["N° fournisseur :", "Code fournisseur :", "N° client :"], "num"),
        (["Service :", "Centre de coût :", "Affaire :"], "short"),
        (["Contact :", "Interlocuteur :", "Suivi par :", "Acheteur :"], "person"),
        (["Tél. :", "Téléphone :", "Fax :"], "phone"), (["E-mail :", "Courriel :"], "email"),
        (["N° TVA :", "SIRET :", "TVA intracom. :"], "taxid"),
        (["Incoterm :", "Mode d'expédition :", "Transporteur :"], "text"),
        (["Imprimé le :", "Date d'édition :", "Valable jusqu'au :"], "date"), (["Version :", "Indice :"], "small"),
        (["Votre réf. :", "Notre réf. :", "Contrat n° :"], "code"),
    ],
    "es": [
        (["Oferta n.º", "Su presupuesto:"], "code"), (["N.º proveedor:", "Código proveedor:", "N.º cliente:"], "num"),
        (["Departamento:", "Centro de coste:", "Proyecto:"], "short"),
        (["Contacto:", "Persona de contacto:", "Comprador:"], "person"),
        (["Teléfono:", "Tel.:", "Fax:"], "phone"), (["E-mail:", "Correo:"], "email"),
        (["NIF:", "CIF:"], "taxid"), (["Incoterms:", "Forma de envío:", "Transportista:"], "text"),
        (["Fecha impresión:", "Válido hasta:"], "date"), (["Versión:", "Revisión:"], "small"),
        (["Su referencia:", "Nuestra ref.:"], "code"),
    ],
    "nl": [
        (["Offertenr.:", "Uw offerte:"], "code"), (["Leveranciersnr.:", "Crediteurnr.:", "Klantnr.:"], "num"),
        (["Afdeling:", "Kostenplaats:", "Project:"], "short"),
        (["Contactpersoon:", "Inkoper:", "Behandeld door:"], "person"),
        (["Telefoon:", "Tel.:", "Fax:"], "phone"), (["E-mail:"], "email"), (["BTW-nr.:", "KvK-nr.:"], "taxid"),
        (["Leveringsvoorwaarden:", "Verzendwijze:", "Incoterms:"], "text"),
        (["Afdrukdatum:", "Geldig tot:"], "date"), (["Versie:", "Revisie:"], "small"),
        (["Uw referentie:", "Onze referentie:"], "code"),
    ],
    "it": [
        (["Offerta n.", "Vs. offerta:"], "code"), (["Cod. fornitore:", "Codice cliente:"], "num"),
        (["Reparto:", "Centro di costo:", "Commessa:"], "short"), (["Referente:", "Buyer:", "Contatto:"], "person"),
        (["Tel.:", "Telefono:", "Fax:"], "phone"), (["E-mail:", "PEC:"], "email"), (["P.IVA:", "C.F.:"], "taxid"),
        (["Resa:", "Porto:", "Vettore:"], "text"), (["Data stampa:", "Valido fino al:"], "date"),
        (["Revisione:"], "small"), (["Vs. rif.:", "Ns. rif.:"], "code"),
    ],
    "pt": [
        (["Proposta n.º", "V/ orçamento:"], "code"), (["N.º fornecedor:", "Código fornecedor:", "N.º cliente:"], "num"),
        (["Departamento:", "Centro de custo:", "Projeto:"], "short"), (["Contacto:", "Responsável:", "Comprador:"], "person"),
        (["Telefone:", "Tel.:", "Fax:"], "phone"), (["E-mail:"], "email"), (["NIF:", "Contribuinte:", "CNPJ:"], "taxid"),
        (["Incoterms:", "Transporte:", "Expedição:"], "text"), (["Impresso em:", "Válido até:"], "date"),
        (["Revisão:", "Versão:"], "small"), (["V/ referência:", "N/ referência:"], "code"),
    ],
}

SHORT_VALUES: list[str] = ["432 BOYS", "Maintenance", "Production", "IT", "AW26", "SS27", "Plant 2", "R&D",
                           "Bangladesh", "China", "Warehouse", "Facilities", "Kitchen", "Marketing", "HQ",
                           "1100", "CC-4100", "Line 3", "Retail", "E-commerce"]
TEXT_VALUES: list[str] = ["FOB Shanghai", "EXW", "DAP", "CIF Jebel Ali", "DDP", "By road", "Courier",
                          "Sea freight", "Air freight", "Our truck", "FCA", "Ex Works (EXW)", "Best way",
                          "CPT", "Free delivery"]

# Words of a letterhead or footer that are not order values.
FOOTER_LINES: dict[str, list[str]] = {
    "en": ["Registered office:", "Company registration no.", "Bank:", "IBAN:", "SWIFT:", "Authorised Signatory",
           "This is a computer generated document and does not require a signature.",
           "Please acknowledge receipt of this order.", "Printed by", "For and on behalf of",
           "Subject to our standard terms and conditions of purchase.", "E. & O.E."],
    "de": ["Sitz der Gesellschaft:", "Handelsregister:", "Bankverbindung:", "IBAN:", "BIC:", "Geschäftsführer:",
           "Dieses Dokument wurde maschinell erstellt und ist ohne Unterschrift gültig.", "Bitte Auftragsbestätigung senden."],
    "fr": ["Siège social :", "RCS", "Banque :", "IBAN :", "BIC :", "Document généré automatiquement.",
           "Merci de nous retourner l'accusé de réception.", "Signature et cachet"],
    "es": ["Domicilio social:", "Registro Mercantil", "Banco:", "IBAN:", "BIC:", "Documento generado automáticamente.",
           "Firma y sello"],
    "nl": ["Statutair gevestigd:", "KvK", "Bank:", "IBAN:", "BIC:", "Dit document is automatisch aangemaakt.",
           "Handtekening"],
    "it": ["Sede legale:", "R.E.A.", "Banca:", "IBAN:", "BIC:", "Documento generato automaticamente.", "Timbro e firma"],
    "pt": ["Sede:", "Capital social", "Banco:", "IBAN:", "BIC:", "Documento processado por computador.", "Assinatura"],
}

# Words in an attribute row of a multi-row item block: (caption, kind of value).
ITEM_ATTRIBUTES: dict[str, list[tuple[str, str]]] = {
    "en": [("Your material number:", "code"), ("Inc. Article No.:", "ean"), ("Delivery date:", "date"),
           ("HS Code:", "hs"), ("Customer part:", "code"), ("Country of origin:", "short"), ("Drawing No.:", "code"),
           ("Manufacturer:", "company"), ("Mfr. Part No.:", "code"), ("Need by:", "date"), ("Remarks:", "text")],
    "de": [("Ihre Materialnummer:", "code"), ("EAN:", "ean"), ("Liefertermin:", "date"), ("Zolltarifnr.:", "hs"),
           ("Zeichnungsnr.:", "code"), ("Hersteller:", "company")],
    "fr": [("Votre référence :", "code"), ("EAN :", "ean"), ("Date de livraison :", "date"), ("Code douanier :", "hs"),
           ("Plan n° :", "code"), ("Fabricant :", "company")],
    "es": [("Su referencia:", "code"), ("EAN:", "ean"), ("Fecha de entrega:", "date"), ("Código arancelario:", "hs"),
           ("Plano n.º:", "code"), ("Fabricante:", "company")],
    "nl": [("Uw artikelnummer:", "code"), ("EAN:", "ean"), ("Leverdatum:", "date"), ("GN-code:", "hs"),
           ("Tekeningnr.:", "code"), ("Fabrikant:", "company")],
    "it": [("Vs. codice:", "code"), ("EAN:", "ean"), ("Data consegna:", "date"), ("Voce doganale:", "hs"),
           ("Disegno n.:", "code"), ("Produttore:", "company")],
    "pt": [("V/ referência:", "code"), ("EAN:", "ean"), ("Data de entrega:", "date"), ("Código pautal:", "hs"),
           ("Desenho n.º:", "code"), ("Fabricante:", "company")],
}

# Places and currencies for the extra English regions and the extra languages.
EXTRA_PLACES: dict[str, list[tuple[str, str, str]]] = {  # country -> (street, postcode pattern, city)
    "IN": [("Plot No. 45, MIDC Industrial Area", "999999", "Pune"), ("12/3 Gandhi Road", "999999", "Coimbatore"),
           ("Survey No. 112, Village Kondapur", "999999", "Hyderabad"), ("B-24 Okhla Phase II", "999999", "New Delhi"),
           ("4th Floor, Tower B, Andheri East", "999999", "Mumbai")],
    "AE": [("Plot S20304, JAFZA South", "", "Jebel Ali, Dubai"), ("Office 1204, Al Moosa Tower", "P.O. Box 99999", "Dubai"),
           ("Warehouse 7, Mussafah M-12", "P.O. Box 99999", "Abu Dhabi"), ("Al Hamra Industrial Zone", "", "Ras Al Khaimah")],
    "AU": [("Unit 4, 18 Rider Boulevard", "9999", "Rhodes NSW"), ("27 Industrial Drive", "9999", "Braeside VIC"),
           ("Level 3, 100 Queen St", "9999", "Brisbane QLD")],
    "IT": [("Via Roma 12", "99999", "Milano"), ("Via dell'Industria 45", "99999", "Bologna"),
           ("Corso Francia 200", "99999", "Torino"), ("Zona Industriale Lotto 7", "99999", "Bari")],
    "PT": [("Rua Augusta 120", "9999-999", "Lisboa"), ("Avenida da Boavista 1500", "9999-999", "Porto"),
           ("Zona Industrial de Aveiro, Lote 12", "9999-999", "Aveiro")],
}
EXTRA_COUNTRY_NAMES: dict[str, str] = {"IN": "India", "AE": "United Arab Emirates", "AU": "Australia",
                                       "IT": "Italia", "PT": "Portugal"}
EXTRA_FORMS: dict[str, list[str]] = {"IN": ["Pvt. Ltd.", "Private Limited", "Ltd.", "LLP", "Industries"],
                                     "AE": ["LLC", "FZE", "FZ LLC", "Trading LLC", "FZCO"],
                                     "AU": ["Pty Ltd", "Pty. Ltd.", "Limited"],
                                     "IT": ["S.r.l.", "S.p.A.", "S.n.c."], "PT": ["Lda.", "S.A.", "Unipessoal Lda."]}
EXTRA_CURRENCIES: dict[str, list[str]] = {"IN": ["INR"], "AE": ["AED", "USD"], "AU": ["AUD"], "IT": ["EUR"],
                                          "PT": ["EUR"]}
LANG_EXTRA_COUNTRIES: dict[str, list[str]] = {"en": ["IN", "AE", "AU"], "it": ["IT"], "pt": ["PT"]}
EXTRA_UOMS: dict[str, list[str]] = {"it": ["pz", "pz.", "kg", "m", "conf.", "NR"], "pt": ["un", "un.", "kg", "m", "cx"],
                                    "en": ["NOS", "Nos.", "PC", "EA", "Each", "BOX", "CTN", "PKT", "SET", "MTR"]}
MONTHS_EXTRA: dict[str, list[str]] = {
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
           "ottobre", "novembre", "dicembre"],
    "pt": ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
           "outubro", "novembro", "dezembro"],
}
PAYMENT_TERMS_EXTRA: dict[str, list[str]] = {
    "en": ["30 Days", "45 days from invoice", "Net 90 Days", "100% advance", "60 days PDC", "Against delivery",
           "LC at sight", "Cash on delivery", "7 days"],
    "it": ["Bonifico 30 gg d.f.", "Ri.Ba. 60 gg f.m.", "Rimessa diretta"],
    "pt": ["30 dias", "Pronto pagamento", "60 dias data fatura"],
}
AMOUNT_IN_WORDS: dict[str, str] = {"en": "Amount in words:", "de": "In Worten:", "fr": "Arrêté à la somme de :",
                                   "es": "Son:", "nl": "In woorden:", "it": "In lettere:", "pt": "Por extenso:"}

# --- Hebrew (right to left; drawn in DejaVu Sans, which matplotlib ships) ---------------------------
HE = "he"
HEADER_LABELS_EXTRA[HE] = {
    "title": ["הזמנת רכש", "הזמנה", "הזמנת סוכן", "הזמנת רכש מקור", "הזמנה מספק"],
    "po_number": ["מספר הזמנה:", "הזמנה מס':", "מס' הזמנה:", "הזמנת רכש מס'", "מס' מסמך:"],
    "order_date": ["תאריך:", "תאריך הזמנה:", "תאריך הפקה:", "תאריך מסמך:"],
    "requested_date": ["תאריך אספקה:", "מועד אספקה:", "לאספקה עד:"],
    "buyer": ["המזמין:", "לקוח:", "שם הלקוח:"],
    "supplier": ["לכבוד:", "ספק:", "שם הספק:"],
    "ship_to": ["כתובת למשלוח:", "כתובת אספקה:", "מקום אספקה:"],
    "bill_to": ["כתובת לחשבונית:", "לחיוב:"],
    "payment_terms": ["תנאי תשלום:", "תשלום:"],
    "currency": ["מטבע:"],
    "subtotal": ['סה"כ לפני מע"מ', "סכום ביניים", 'סה"כ ללא מע"מ'],
    "freight": ["הובלה", "דמי משלוח"],
    "discount": ["הנחה", "הנחת סל"],
    "tax": ['מע"מ'],
    "total": ['סה"כ לתשלום', 'סה"כ כולל מע"מ', "סך הכל", 'סה"כ'],
    "carried": ["להעברה"],
    "brought": ["מהעברה"],
    "page": ["עמוד", "דף"],
    "of": ["מתוך"],
    "notes": ["הערות:"],
}
COLUMN_LABELS_EXTRA[HE] = {
    "line_no": ["מס'", "שורה", "#"],
    "sku": ['מק"ט', "קוד פריט", "מפתח פריט", "פריט"],
    "description": ["תיאור", "שם פריט", "תאור מוצר", "תיאור פריט"],
    "quantity": ["כמות", "כמות מוזמנת"],
    "uom": ["יח' מידה", "יחידה"],
    "unit_price": ["מחיר", "מחיר ליח'", "מחיר יחידה", "מחיר נטו"],
    "discount_pct": ["הנחה %", "% הנחה"],
    "amount": ['סה"כ', "סכום", 'סה"כ שורה'],
}
EXTRA_COLUMNS[HE] = {"ean": ["ברקוד"], "hs": ["קוד מכס"], "colour": ["צבע"], "size": ["מידה"],
                     "tax_pct": ['מע"מ %'], "del_date": ["תאריך אספקה"], "cust_part": ['מק"ט ספק', "קוד ספק"],
                     "mrp": ["מחיר מחירון"]}
DISTRACTOR_KEYS[HE] = [
    (["הצעת מחיר מס':", "אסמכתא:", "אסמ':"], "code"), (["מס' לקוח:", "מס' ספק:", "מפתח:", "מזהה:"], "num"),
    (["מחסן:", "סניף:", "מחלקה:"], "small"), (["סוכן:", "איש קשר:", "נציג:"], "person"),
    (["טלפון:", "טל':", "פקס:", "נייד:"], "phone"), (['דוא"ל:', "אימייל:"], "email"),
    (["ע.מ.", "ח.פ.", "עוסק מורשה:"], "taxid"), (["תנאי אספקה:", "אופן משלוח:"], "text"),
    (["תאריך הדפסה:", "בתוקף עד:"], "date"), (["שעה:"], "time"),
]
FOOTER_LINES[HE] = ["מסמך ממוחשב", "חתימה וחותמת", "בנק:", "סניף:", "חשבון:", "נא לאשר קבלת הזמנה זו"]
ITEM_ATTRIBUTES[HE] = [('מק"ט ספק:', "code"), ("ברקוד:", "ean"), ("תאריך אספקה:", "date"), ("יצרן:", "company")]
MONTHS_EXTRA[HE] = ["ינואר", "פברואר", "מרץ", "אפריל", "מאי", "יוני", "יולי", "אוגוסט", "ספטמבר", "אוקטובר",
                    "נובמבר", "דצמבר"]
PAYMENT_TERMS_EXTRA[HE] = ["שוטף + 30", "שוטף + 60", "שוטף + 90", "מזומן", "העברה בנקאית"]
AMOUNT_IN_WORDS[HE] = "במילים:"
HE_TERMS: list[str] = ["הספק יספק את הסחורה בהתאם להזמנה זו.", "יש לציין את מספר ההזמנה על גבי כל חשבונית.",
                       "המחירים כוללים אריזה והובלה אלא אם צוין אחרת.", "אספקה חלקית מחייבת אישור מראש ובכתב."]
HE_COMPANY_WORDS: list[str] = ["אורן", "גל", "שחר", "נשר", "הדר", "אופק", "רימון", "תמר", "ארז", "כרמל", "גליל",
                               "שקד", "ברק", "אלון", "יעלים", "מעיין"]
HE_COMPANY_TRADES: list[str] = ["שיווק והפצה", "תעשיות", "סחר", "יבוא ושיווק", "טכנולוגיות", "מערכות מים",
                                "אינסטלציה", "כלי עבודה", "אריזות", "מזון", "ציוד משרדי", "אינטרנשיונל"]
HE_STREETS: list[str] = ["הרצל", "בן יהודה", "החרושת", "המלאכה", "התעשייה", "כנפי נשרים", "יפו", "הנביאים",
                         "דרך השלום", "העצמאות", "הברזל"]
HE_CITIES: list[str] = ["תל אביב", "ירושלים", "חיפה", "פתח תקווה", "ראשון לציון", "אשדוד", "באר שבע", "נתניה",
                        "חולון", "גבעת שאול ירושלים"]
HE_PRODUCTS: list[str] = ["מקלחת יד", "ברז מטבח", "מערכת רחצה", "צינור גמיש", "מסנן מים", "ראש מקלחת", "מגבת",
                          "נייר צילום", "עט כדורי", "קלסר", "קפה טחון", "שמן זית", "אורז בסמטי", "כפפות ניטריל",
                          "נעלי בטיחות", "סוללה", "מנורת לד"]
HE_SPECS: list[str] = ["NAPOLY", "3 מצבים", "5 מצבים", "PORTOFINO", '50 ס"מ', '1 ק"ג', "500 גרם", "לבן", "שחור",
                       "מידה L", "A4", "ANCONA", "כחול", "12V", "PRO"]
HE_PERSONS: list[str] = ["משה כהן", "יוסי לוי", "דנה מזרחי", "מיכל פרץ", "אבי ביטון", "רונית אברהם", "דוד פרידמן",
                         "נועה שפירא"]
HE_UOMS: list[str] = ["יח'", "יחידה", "קרטון", 'ק"ג', "מטר", "חבילה"]

# A list price printed beside the net price the line is charged at (the net price is the unit
# price: the one that makes the amount).
LIST_PRICE_CAPTIONS: dict[str, list[str]] = {
    "en": ["List Price", "Price", "Gross Price", "MRP", "Rate"], "de": ["Listenpreis", "Bruttopreis", "Preis"],
    "fr": ["Prix brut", "Prix tarif", "P.U. brut"], "es": ["Precio tarifa", "Precio bruto", "PVP"],
    "nl": ["Bruto prijs", "Lijstprijs"], "it": ["Prezzo listino", "Prezzo lordo"], "pt": ["Preço tabela", "Preço bruto"],
    "he": ["מחיר", "מחיר מחירון"],
}
NET_PRICE_CAPTIONS: dict[str, list[str]] = {
    "en": ["Net Price", "Net Rate", "Net Unit Price", "Net"], "de": ["Nettopreis", "Netto-EP", "Netto"],
    "fr": ["Prix net", "P.U. net", "PU net"], "es": ["Precio neto", "Neto"], "nl": ["Netto prijs", "Netto"],
    "it": ["Prezzo netto", "Netto"], "pt": ["Preço líquido", "Preço net"], "he": ["מחיר נטו", "נטו"],
}
# The caption of an item code printed on a row of its own under the description.
ITEM_CODE_CAPTIONS: dict[str, list[str]] = {
    "en": ["Item Code:", "Item No.:", "Part No.:", "Article No.:", "SKU:", "Material:", "Product Code:"],
    "de": ["Artikelnr.:", "Material:", "Art.-Nr.:"], "fr": ["Réf. :", "Code article :", "Référence :"],
    "es": ["Código:", "Ref.:", "Referencia:"], "nl": ["Artikelnr.:", "Code:"], "it": ["Codice:", "Cod. art.:"],
    "pt": ["Código:", "Ref.ª:"], "he": ['מק"ט:', "קוד פריט:"],
}
DESCRIPTION_HEADS: dict[str, list[str]] = {
    "en": ["Description", "Item Details", "Description / Item", "Particulars"], "de": ["Bezeichnung", "Artikel"],
    "fr": ["Désignation", "Article"], "es": ["Descripción", "Artículo"], "nl": ["Omschrijving", "Artikel"],
    "it": ["Descrizione", "Articolo"], "pt": ["Descrição", "Artigo"], "he": ["תיאור", "שם פריט"],
}

# Orders written by the seller (a sales order, an order confirmation, a quotation): the letterhead is
# the supplier's, the addressee is the buyer, and the order number is the seller's.
SELLER_TITLES: dict[str, list[str]] = {
    "en": ["Sales Order", "SALES ORDER", "Order Confirmation", "ORDER ACKNOWLEDGEMENT", "Quotation", "Pro Forma Invoice"],
    "de": ["Auftragsbestätigung", "Kundenauftrag", "Angebot"], "fr": ["Confirmation de commande", "Devis", "Commande client"],
    "es": ["Confirmación de pedido", "Pedido de venta", "Presupuesto"], "nl": ["Orderbevestiging", "Verkooporder", "Offerte"],
    "it": ["Conferma d'ordine", "Ordine cliente", "Offerta"], "pt": ["Confirmação de encomenda", "Pedido de venda", "Orçamento"],
    "he": ["אישור הזמנה", "הזמנת לקוח", "הצעת מחיר"],
}
SELLER_ORDER_CAPTIONS: dict[str, list[str]] = {
    "en": ["Order N°", "Sales Order No.:", "SO Number:", "Order #", "Quotation #", "Confirmation No.:"],
    "de": ["Auftrag Nr.", "Auftragsnummer:", "Angebot Nr."], "fr": ["Commande n°", "Devis n°", "N° de confirmation :"],
    "es": ["Pedido n.º", "Presupuesto n.º"], "nl": ["Ordernr.:", "Offertenr."], "it": ["Ordine n.", "Offerta n."],
    "pt": ["Encomenda n.º", "Orçamento n.º"], "he": ["הזמנה מס':", "הצעה מס':"],
}
CUSTOMER_CAPTIONS: dict[str, list[str]] = {
    "en": ["Customer:", "Sold To:", "Bill To:", "Invoice and shipping address:", "Customer Address:"],
    "de": ["Kunde:", "Auftraggeber:", "Rechnungsempfänger:"], "fr": ["Client :", "Facturé à :"],
    "es": ["Cliente:", "Facturar a:"], "nl": ["Klant:", "Factuuradres:"], "it": ["Cliente:", "Spett.le"],
    "pt": ["Cliente:", "Faturar a:"], "he": ["לקוח:", "לכבוד:"],
}
# The customer's own order number on a seller's document: not the order number read.
CUSTOMER_REF_CAPTIONS: dict[str, list[str]] = {
    "en": ["Your PO No.:", "Customer PO:", "Your Reference:", "Customer Ref.:"], "de": ["Ihre Bestellung:", "Ihr Zeichen:"],
    "fr": ["Votre commande :", "Votre réf. :"], "es": ["Su pedido:", "Su referencia:"], "nl": ["Uw order:", "Uw referentie:"],
    "it": ["Vs. ordine:", "Vs. rif.:"], "pt": ["V/ encomenda:", "V/ referência:"], "he": ["הזמנתכם:", "אסמכתא:"],
}
