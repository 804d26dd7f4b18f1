//! Bill applications and verified downloads (spec part 2 §2): endpoint 17's files, the
//! trade bill and the fund-flow bill. See [`crate::bill`] for what is checked and why.

use tixpay_core::crypto::base64;
use tixpay_core::{Error, Operation};
use zeroize::Zeroizing;

use super::Client;
use crate::auth::Exchange;
use crate::bill::pipeline::{FileSpec, Receiver};
use crate::bill::{
    BillDownload, BillError, DownloadStats, FundFlowBillRequest, Spool, TradeBillRequest,
    VerifiedBill,
};
use crate::types::MerchantBill;
use crate::wire::{PROVIDER, context, encode};

const DOWNLOAD: &str = "GET {download_url}";

/// One file to fetch and how to check it.
struct Planned {
    url: String,
    spec: FileSpec,
}

impl Client {
    /// `GET /v3/bill/tradebill` (申请交易账单): where to download the trade bill of one
    /// day, and the SHA-1 it must have. A read: retried like any query. The URL is valid
    /// for 30 seconds, so download at once with [`Client::download_bill`].
    ///
    /// ```no_run
    /// use tixpay_wechat_payscore::bill::{Spool, TradeBillRequest};
    /// # async fn run(client: tixpay_wechat_payscore::Client) -> Result<(), tixpay_core::Error> {
    /// let bill = client.trade_bill(&TradeBillRequest::new("2024-05-01")).await?;
    /// let verified = client.download_bill(&bill, Spool::temp_file()?).await?;
    /// for row in verified.rows()? {
    ///     println!("{:?}", row?.out_trade_no());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn trade_bill(&self, request: &TradeBillRequest) -> Result<BillDownload, Error> {
        const NAME: &str = "GET /v3/bill/tradebill";
        request.validate().map_err(context(NAME))?;
        let mut path = format!(
            "/v3/bill/tradebill?bill_date={}",
            encode(&request.bill_date)
        );
        if let Some(t) = &request.bill_type {
            path.push_str(&format!("&bill_type={}", encode(t.as_str())));
        }
        if request.gzip {
            path.push_str("&tar_type=GZIP");
        }
        // The reply describes a file: it echoes nothing to bind it by.
        let mut bill: BillDownload = self.get(NAME, &path, |op| op).await?;
        bill.gzip = request.gzip;
        Ok(bill)
    }

    /// `GET /v3/bill/fundflowbill` (申请资金账单): where to download the fund-flow bill of
    /// one day, and the SHA-1 it must have. Download at once with [`Client::download_bill`].
    ///
    /// ```no_run
    /// use tixpay_wechat_payscore::bill::{AccountType, FundFlowBillRequest, Spool};
    /// # async fn run(client: tixpay_wechat_payscore::Client) -> Result<(), tixpay_core::Error> {
    /// let request = FundFlowBillRequest::new("2024-05-01").account_type(AccountType::Basic);
    /// let bill = client.fund_flow_bill(&request).await?;
    /// let verified = client.download_bill(&bill, Spool::temp_file()?).await?;
    /// println!("{} verified bytes", verified.stats().plaintext_bytes);
    /// # Ok(()) }
    /// ```
    pub async fn fund_flow_bill(
        &self,
        request: &FundFlowBillRequest,
    ) -> Result<BillDownload, Error> {
        const NAME: &str = "GET /v3/bill/fundflowbill";
        request.validate().map_err(context(NAME))?;
        let mut path = format!(
            "/v3/bill/fundflowbill?bill_date={}",
            encode(&request.bill_date)
        );
        if let Some(t) = &request.account_type {
            path.push_str(&format!("&account_type={}", encode(t.as_str())));
        }
        if request.gzip {
            path.push_str("&tar_type=GZIP");
        }
        let mut bill: BillDownload = self.get(NAME, &path, |op| op).await?;
        bill.gzip = request.gzip;
        Ok(bill)
    }

    /// Downloads a trade or fund-flow bill (`GET {download_url}`, the signed
    /// `/v3/billdownload/file?token=…`), un-gzips it if it was asked for gzipped, and checks
    /// its SHA-1 against `hash_value`; only then does it return the [`VerifiedBill`] that
    /// gives rows. The download's reply is not signed by WeChat Pay (the documents say to
    /// skip its verification), so the hash from the verified application is the check. On
    /// `400 INVALID_REQUEST` the URL has expired: apply again.
    ///
    /// ```no_run
    /// use tixpay_wechat_payscore::bill::{Spool, TradeBillRequest};
    /// # async fn run(client: tixpay_wechat_payscore::Client) -> Result<(), tixpay_core::Error> {
    /// let bill = client.trade_bill(&TradeBillRequest::new("2024-05-01")).await?;
    /// let mut rows = client.download_bill(&bill, Spool::temp_file()?).await?.rows()?;
    /// let total = rows.by_ref().count();
    /// println!("{total} rows; summary {:?}", rows.summary());
    /// # Ok(()) }
    /// ```
    pub async fn download_bill(
        &self,
        bill: &BillDownload,
        spool: Spool,
    ) -> Result<VerifiedBill, Error> {
        let plan = FileSpec::new(1, &bill.hash_type, &bill.hash_value, bill.gzip)
            .map(|spec| {
                vec![Planned {
                    url: bill.download_url.clone(),
                    spec,
                }]
            })
            .map_err(|e| context(DOWNLOAD)(e.into()))?;
        self.download_files(plan, spool).await
    }

    /// Downloads every file of a PayScore merchant bill (endpoint 17's reply) in
    /// `bill_sequence` order. For each: the signed `GET {download_url}`; `encrypt_key`
    /// unwrapped with the merchant's API private key (RSA-OAEP-SHA1, inferred); AES-256-GCM
    /// with the `nonce` string's bytes (of any length) and empty associated data; gunzip if
    /// [`MerchantBill::gzip`]; SHA-1 of the result against `hash_value`. The texts are
    /// concatenated in order. Any failure of any file is an error and no row is returned.
    ///
    /// ```no_run
    /// use tixpay_wechat_payscore::bill::Spool;
    /// # async fn run(client: tixpay_wechat_payscore::Client) -> Result<(), tixpay_core::Error> {
    /// let bill = client.merchant_bill("2024-05-01", "500001", true).await?;
    /// let verified = client.download_merchant_bill(&bill, Spool::temp_file()?).await?;
    /// println!("{} files verified", verified.files().len());
    /// # Ok(()) }
    /// ```
    pub async fn download_merchant_bill(
        &self,
        bill: &MerchantBill,
        spool: Spool,
    ) -> Result<VerifiedBill, Error> {
        let plan = self
            .plan_merchant_bill(bill)
            .map_err(|e| context(DOWNLOAD)(e.into()))?;
        self.download_files(plan, spool).await
    }

    /// Endpoint 17 end to end: applies for the PayScore bill of `bill_date` (gzipped, as
    /// both official pages ask) and downloads and verifies every file
    /// ([`Client::download_merchant_bill`]).
    ///
    /// ```no_run
    /// use tixpay_wechat_payscore::bill::Spool;
    /// # async fn run(client: tixpay_wechat_payscore::Client) -> Result<(), tixpay_core::Error> {
    /// let verified = client.fetch_merchant_bill("2024-05-01", "500001", Spool::temp_file()?).await?;
    /// for row in verified.rows()? {
    ///     let row = row?;
    ///     println!("{:?} {:?}", row.payscore(), row.settlement_total()?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn fetch_merchant_bill(
        &self,
        bill_date: &str,
        service_id: &str,
        spool: Spool,
    ) -> Result<VerifiedBill, Error> {
        let bill = self.merchant_bill(bill_date, service_id, true).await?;
        self.download_merchant_bill(&bill, spool).await
    }

    fn plan_merchant_bill(&self, bill: &MerchantBill) -> Result<Vec<Planned>, BillError> {
        let files = &bill.download_bill_list;
        if let Some(count) = bill.download_bill_count
            && count as usize != files.len()
        {
            return Err(BillError::Description(format!(
                "download_bill_count is {count} but {} files are listed",
                files.len()
            )));
        }
        let mut plan = Vec::with_capacity(files.len());
        for (i, file) in files.iter().enumerate() {
            let missing =
                |field: &str| BillError::Description(format!("file {} has no {field}", i + 1));
            let sequence = file.bill_sequence.ok_or_else(|| missing("bill_sequence"))?;
            let required = |v: &Option<String>, field: &str| {
                v.clone()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| missing(field))
            };
            let url = required(&file.download_url, "download_url")?;
            let mut spec = FileSpec::new(
                sequence,
                &required(&file.hash_type, "hash_type")?,
                &required(&file.hash_value, "hash_value")?,
                bill.gzip,
            )?;
            let wrapped = base64::decode(required(&file.encrypt_key, "encrypt_key")?)
                .map_err(|_| BillError::KeyUnwrap { sequence })?;
            let key = Zeroizing::new(
                self.config()
                    .private_key
                    .decrypt_oaep_sha1(&wrapped)
                    .map_err(|_| BillError::KeyUnwrap { sequence })?,
            );
            if key.len() != 32 {
                return Err(BillError::KeyUnwrap { sequence });
            }
            let nonce = required(&file.nonce, "nonce")?.into_bytes();
            spec.encryption = Some((key, nonce));
            plan.push(Planned { url, spec });
        }
        plan.sort_by_key(|p| p.spec.sequence);
        // Sequences are 1, 2, … n: a gap or a repeat means a part of the day is missing.
        for (i, p) in plan.iter().enumerate() {
            if p.spec.sequence as usize != i + 1 {
                return Err(BillError::Description(format!(
                    "bill_sequence {} where {} was expected: files missing or repeated",
                    p.spec.sequence,
                    i + 1
                )));
            }
        }
        Ok(plan)
    }

    /// The download request: a signed GET of the URL as given, never to a plain-http host
    /// other than the configured one (the signature would be sent in the clear to it).
    fn download_operation(&self, url: &str) -> Result<Operation, Error> {
        let config = self.config();
        let ours = |base: &str| {
            url.strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('/'))
        };
        let allowed = url.starts_with("https://")
            || ours(&config.base_url)
            || config.backup_url.as_deref().is_some_and(ours);
        if !allowed {
            return Err(BillError::Description(
                "download_url is neither https nor on the configured host".into(),
            )
            .into());
        }
        Operation::get(PROVIDER, DOWNLOAD, url).header("accept", "*/*")
    }

    /// Fetches and checks each file in order into `spool`; the first failure ends the
    /// download, empties the spool, and is returned.
    async fn download_files(
        &self,
        plan: Vec<Planned>,
        mut spool: Spool,
    ) -> Result<VerifiedBill, Error> {
        let result = self.receive_all(&plan, &mut spool).await;
        match result {
            Ok((files, stats)) => Ok(VerifiedBill::new(spool, files, stats)),
            Err(e) => {
                // Unverified text never outlives a failed download (a temporary spool is
                // also removed when dropped here).
                let _ = spool.reset();
                Err(context(DOWNLOAD)(e))
            }
        }
    }

    async fn receive_all(
        &self,
        plan: &[Planned],
        spool: &mut Spool,
    ) -> Result<(Vec<crate::bill::VerifiedFile>, DownloadStats), Error> {
        spool
            .reset()
            .map_err(|e| Error::config(format!("cannot use the bill spool: {e}")))?;
        let mut files = Vec::with_capacity(plan.len());
        let mut stats = DownloadStats::default();
        for planned in plan {
            let op = self.download_operation(&planned.url)?;
            // A 2xx body is not verified by `Exchange` (WeChat Pay does not sign it); a
            // refusal is, as for any call.
            let mut response = self
                .inner
                .http
                .execute_streaming(&op, &Exchange { client: self })
                .await?;
            let mut receiver = Receiver::new(&planned.spec, spool)?;
            while let Some(piece) = response.body_mut().chunk().await? {
                receiver.push(&piece)?;
            }
            let (file, peak) = receiver.finish()?;
            stats.peak_buffered_bytes = stats.peak_buffered_bytes.max(peak);
            stats.downloaded_bytes = stats.downloaded_bytes.saturating_add(file.downloaded_bytes);
            stats.plaintext_bytes = stats.plaintext_bytes.saturating_add(file.plaintext_bytes);
            files.push(file);
        }
        Ok((files, stats))
    }
}
